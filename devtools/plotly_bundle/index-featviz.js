'use strict';

// The traces featviz's browser charts draw: scatter (always in core), bar (the stage losses),
// scatter3d (the teacher-span view). Copied into plotly.js's lib/ by build.sh.
var Plotly = require('./core');

Plotly.register([require('./bar'), require('./scatter3d')]);

module.exports = Plotly;
