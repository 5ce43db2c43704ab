// esbuild settings of plotly.js's own esbuild-config.js (its partial bundles), for lib/index-featviz.js.
const esbuild = require('esbuild');
const { environmentPlugin } = require('esbuild-plugin-environment');
const { glsl } = require('esbuild-plugin-glsl');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');

const [outfile, version] = process.argv.slice(2);
esbuild
  .build({
    entryPoints: ['./lib/index-featviz.js'],
    outfile,
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    sourcemap: false,
    plugins: [InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
    alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    legalComments: 'eof',
    banner: {
      js: `/* plotly.js v${version}, featviz bundle (traces: scatter, bar, scatter3d). Copyright 2012-2026, Plotly, Inc. MIT license. Built by devtools/plotly_bundle/build.sh. */`,
    },
    logLevel: 'info',
  })
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
