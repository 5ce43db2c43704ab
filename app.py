"""featviz: the frame around every page (page config, navigation); the pages live in pages/."""

from featviz import ui

ui.frame().run()
