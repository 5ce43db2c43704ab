"""Tools for developing featviz (not part of the installed app): the browser driver of the tests and benchmarks."""
