// Preload (`node --import`) that appends the URL of every module the
// process loads to the file named by RECORD_MODULES_TO, one per line: how a
// test sees what a command loads at start-up. The hooks run on Node's
// loader thread, hence a file and not memory.
import module from 'node:module';

module.register(
  `data:text/javascript,${encodeURIComponent(`
    import fs from 'node:fs';
    const out = process.env.RECORD_MODULES_TO;
    export async function load(url, context, next) {
      if (out) fs.appendFileSync(out, url + '\\n');
      return next(url, context);
    }
  `)}`,
);
