// Ledgerwhisk nodejs action proxy: OpenWhisk's action protocol on 0.0.0.0:8080.
//
// Runs inside the nodejs runtime image (Debian's nodejs 18, no npm packages):
//
// - POST /init {"value": {"name", "main", "code", "binary", "env"}}, once.
//   `code` is JavaScript source (the function named `main`, by declaration or
//   export), or with `binary` a base64 zip holding package.json ("main") or
//   index.js, which is require()d; `main` names the exported function, or
//   as "file.func" the function func exported by file.js in the zip.
//   200 {"ok": true}; 502 {"error": ...} when the code cannot be loaded; 403
//   on a second /init.
// - POST /run {"value": params, "activation_id", ...}: every top-level key but
//   "value" becomes process.env.__OW_<KEY>, then main(params) runs; it may
//   return an object, a Promise of one, or be async. 200 with the object; 502
//   {"error": ...} when it throws, rejects with an Error, or returns anything
//   else; a rejection with a plain object answers 200 with it, as OpenWhisk does.
//   (`return;` / undefined counts as {} as on OpenWhisk.)
// - After every /run (and after a failed /init, as OpenWhisk's proxies do) the
//   sentinel line is written to stdout and stderr before the HTTP response.
//
// Concurrency (limits.concurrency > 1): several /run may be in flight at once.
// Each gets its own params; process.env.__OW_* read from the action's own
// synchronous code or its promise/callback chain give its own activation's
// values (AsyncLocalStorage); code that escapes that chain (module-level
// state, a shared client created by another activation) sees the values of the
// most recently started activation, which is all OpenWhisk's runtime offers.
// Console output of concurrent activations interleaves: their logs cannot be
// told apart (OpenWhisk has the same limit).
'use strict';

const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { AsyncLocalStorage } = require('async_hooks');

const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n';
const PORT = Number(process.env.LEDGERWHISK_PROXY_PORT || 8080);
const MAX_BODY = 64 * 1024 * 1024;
const NOT_AN_OBJECT = 'The action did not return a dictionary.';
const MAIN_NAME = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

let actionMain = null;
let initAttempted = false;
const inflight = new Set(); // contexts of the activations now running

// --- per-activation environment -------------------------------------------
const activation = new AsyncLocalStorage();
const realEnv = process.env;
process.env = new Proxy(realEnv, {
    get(target, key) {
        const ctx = activation.getStore();
        if (ctx && typeof key === 'string' && Object.prototype.hasOwnProperty.call(ctx.env, key)) {
            return ctx.env[key];
        }
        return target[key];
    },
    getOwnPropertyDescriptor(target, key) {
        const ctx = activation.getStore();
        if (ctx && typeof key === 'string' && Object.prototype.hasOwnProperty.call(ctx.env, key)
            && Object.prototype.hasOwnProperty.call(target, key)) {
            return { value: ctx.env[key], writable: true, enumerable: true, configurable: true };
        }
        return Reflect.getOwnPropertyDescriptor(target, key);
    },
    set(target, key, value) {
        target[key] = value;
        return true;
    },
    deleteProperty(target, key) {
        delete target[key];
        return true;
    },
});

function envString(value) {
    return typeof value === 'string' ? value : JSON.stringify(value);
}

// --- helpers --------------------------------------------------------------
function describe(err) {
    if (err instanceof Error || (err && typeof err.name === 'string' && typeof err.message === 'string')) {
        return err.message ? `${err.name}: ${err.message}` : err.name;
    }
    if (typeof err === 'string') return `Error: ${err}`;
    let text;
    try { text = JSON.stringify(err); } catch (e) { text = undefined; }
    return `Error: ${text === undefined ? String(err) : text}`;
}

// A thrown value as OpenWhisk's runtime shows it (service.js runCode:
// `An error has occurred: ${error}`): an Error as "Name: message", a string as
// it is, an object as "[object Object]"; a value String() cannot convert
// (a null-prototype object) as describe() shows it.
function asText(err) {
    try { return String(err); } catch (e) { return describe(err); }
}

function logError(err) {
    console.error(err && err.stack ? err.stack : err);
}

function writeSentinels() {
    // Written through the same streams as the action's console output, so
    // the order holds; resolved once both writes are handed to the kernel.
    return new Promise((resolve) => {
        let pending = 2;
        const done = () => { if (--pending === 0) resolve(); };
        process.stdout.write(SENTINEL, done);
        process.stderr.write(SENTINEL, done);
    });
}

class ProxyError extends Error {
    constructor(status, message) {
        super(message);
        this.status = status;
    }
}

// --- zip ------------------------------------------------------------------
// A small reader for the zip files actions come in (stored or deflated
// entries; no zip64, no encryption), so the image needs no unzip binary.
function unzip(buf, dir) {
    let eocd = -1;
    for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
        if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
    }
    if (eocd < 0) throw new ProxyError(502, 'Invalid zip file: no end of central directory (is the code base64 of a zip file?)');
    const count = buf.readUInt16LE(eocd + 10);
    let p = buf.readUInt32LE(eocd + 16);
    if (count === 0xffff || p === 0xffffffff) throw new ProxyError(502, 'Invalid zip file: zip64 archives are not supported.');
    for (let n = 0; n < count; n++) {
        if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) {
            throw new ProxyError(502, 'Invalid zip file: corrupt central directory.');
        }
        const flags = buf.readUInt16LE(p + 8);
        const method = buf.readUInt16LE(p + 10);
        const csize = buf.readUInt32LE(p + 20);
        const usize = buf.readUInt32LE(p + 24);
        const nameLen = buf.readUInt16LE(p + 28);
        const extraLen = buf.readUInt16LE(p + 30);
        const commentLen = buf.readUInt16LE(p + 32);
        const mode = buf.readUInt32LE(p + 38) >>> 16;
        const local = buf.readUInt32LE(p + 42);
        const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
        p += 46 + nameLen + extraLen + commentLen;

        const target = path.resolve(dir, name);
        if (target !== dir && !target.startsWith(dir + path.sep)) {
            throw new ProxyError(502, `Invalid zip file: the entry ${JSON.stringify(name)} points outside the action directory.`);
        }
        if (name.endsWith('/')) {
            fs.mkdirSync(target, { recursive: true });
            continue;
        }
        if (flags & 1) throw new ProxyError(502, 'Invalid zip file: encrypted entries are not supported.');
        if (local + 30 > buf.length || buf.readUInt32LE(local) !== 0x04034b50) {
            throw new ProxyError(502, `Invalid zip file: corrupt entry ${JSON.stringify(name)}.`);
        }
        const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
        const raw = buf.subarray(start, start + csize);
        let data;
        if (method === 0) data = raw;
        else if (method === 8) data = zlib.inflateRawSync(raw);
        else throw new ProxyError(502, `Invalid zip file: entry ${JSON.stringify(name)} uses unsupported compression method ${method}.`);
        if (data.length !== usize) throw new ProxyError(502, `Invalid zip file: entry ${JSON.stringify(name)} has the wrong size.`);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        if ((mode & 0o170000) === 0o120000) { // a symbolic link (zip -y)
            const link = path.resolve(path.dirname(target), data.toString('utf8'));
            if (link.startsWith(dir + path.sep)) fs.symlinkSync(data.toString('utf8'), target);
            continue;
        }
        fs.writeFileSync(target, data, { mode: ((mode & 0o777) || 0o644) | 0o600 });
    }
}

// --- /init ----------------------------------------------------------------
function lookup(obj, dotted) {
    return dotted.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

function loadAction(value) {
    const mainName = value.main || 'main';
    if (typeof mainName !== 'string' || !MAIN_NAME.test(mainName)) {
        throw new ProxyError(502, `Invalid name for the main function: ${JSON.stringify(mainName)}.`);
    }
    if (value.env && typeof value.env === 'object') {
        for (const [k, v] of Object.entries(value.env)) {
            if (v !== null && v !== undefined) realEnv[k] = envString(v);
        }
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'action-'));
    let fn;
    if (value.binary) {
        let buf;
        try { buf = Buffer.from(value.code, 'base64'); } catch (e) { buf = Buffer.alloc(0); }
        // OpenWhisk's runner.js: the archive is told by its first bytes; a zip that
        // cannot be read is one text (the detail goes to the logs).
        if (buf.subarray(0, 4).toString('hex') !== '504b0304') {
            throw new ProxyError(502, 'There was an error uncompressing the action archive. The file type is unsupported');
        }
        try {
            unzip(buf, dir);
        } catch (err) {
            console.error(err instanceof ProxyError ? err.message : String(err));
            throw new ProxyError(502, 'There was an error uncompressing the action Zip archive.');
        }
        // As OpenWhisk's Node.js runtime: "file.func" is func exported by
        // file.js; a plain "func" comes from package.json's main or index.js.
        const dot = mainName.indexOf('.');
        const file = dot < 0 ? undefined : mainName.slice(0, dot);
        const member = dot < 0 ? mainName : mainName.slice(dot + 1);
        if (file === undefined && !fs.existsSync(path.join(dir, 'package.json')) && !fs.existsSync(path.join(dir, 'index.js'))) {
            throw new ProxyError(502, 'Zipped actions must contain either package.json or index.js at the root.');
        }
        process.chdir(dir);
        const exported = require(file === undefined ? dir : path.join(dir, file));
        fn = lookup(exported, member);
    } else {
        // The source, plus a line that hands back the function it declares,
        // whether by `function main` / `const main` or by exports.
        const file = path.join(dir, 'index.js');
        const probe = `\n;globalThis.__ledgerwhisk_probe__ = function () { try { return ${mainName}; } catch (e) { return undefined; } };\n`;
        fs.writeFileSync(file, value.code + probe);
        process.chdir(dir);
        const exported = require(file);
        const declared = globalThis.__ledgerwhisk_probe__;
        delete globalThis.__ledgerwhisk_probe__;
        fn = typeof declared === 'function' ? declared() : undefined;
        if (typeof fn !== 'function') fn = lookup(exported, mainName);
    }
    // OpenWhisk's runner.js assertMainIsFunction, through service.js initCode.
    if (typeof fn !== 'function') {
        throw new ProxyError(502, `Action entrypoint '${mainName}' is not a function.`);
    }
    return fn;
}

async function doInit(body) {
    if (initAttempted) {
        console.error('Cannot initialize the action more than once.');
        return [403, { error: 'Cannot initialize the action more than once.' }];
    }
    const value = body && body.value;
    if (!value || typeof value !== 'object' || typeof value.code !== 'string' || !value.code) {
        return [403, { error: 'Missing main/no code to execute.' }];
    }
    initAttempted = true;
    try {
        actionMain = loadAction(value);
    } catch (err) {
        // As OpenWhisk's service.js initCode: every failure of the action's loading,
        // ours or its code's, is "Initialization has failed due to: ...".
        const message = `Initialization has failed due to: ${err instanceof ProxyError ? err.message : describe(err)}`;
        if (err instanceof ProxyError) console.error(message);
        else logError(err);
        await writeSentinels();
        return [502, { error: message }];
    }
    return [200, { ok: true }];
}

// --- /run -----------------------------------------------------------------
// How a run ended: {value} (main's result, resolved), {rejected} (the Promise
// main returned was rejected) or {thrown} (main threw, or a callback of the
// action did; the process may be in any state).
function invoke(params, env) {
    let ctx;
    return new Promise((resolve) => {
        ctx = { env, fail: (err) => resolve({ thrown: err }) };
        inflight.add(ctx);
        activation.run(ctx, () => {
            let result;
            try {
                result = actionMain(params);
            } catch (err) {
                resolve({ thrown: err });
                return;
            }
            Promise.resolve(result).then(
                (value) => resolve({ value }),
                (err) => resolve({ rejected: err === undefined ? null : err, isRejection: true }),
            );
        });
    }).finally(() => inflight.delete(ctx));
}

// OpenWhisk's Node.js runtime serialises a rejection with serialize-error:
// an Error becomes {name, message, stack, ...its own fields}; anything else
// stays as it is.
function serializeError(value) {
    const isError = value instanceof Error
        || (value !== null && typeof value === 'object' && typeof value.name === 'string'
            && typeof value.message === 'string' && typeof value.stack === 'string');
    if (!isError) return value;
    const out = {};
    for (const key of Object.keys(value)) out[key] = value[key];
    for (const key of ['name', 'message', 'stack', 'code']) {
        if (value[key] !== undefined) out[key] = value[key];
    }
    if (value.cause !== undefined) out.cause = serializeError(value.cause);
    return out;
}

// A rejected Promise is an application error whose error is the serialised
// rejection (runner.js finalizeResult); rejecting with nothing gives {}.
function rejectionResult(reason) {
    const error = reason === null || reason === undefined || reason === false || reason === 0 || reason === ''
        ? {}
        : serializeError(reason);
    try {
        return JSON.stringify({ error });
    } catch (err) {
        return JSON.stringify({ error: err.message });
    }
}

async function doRun(body) {
    if (!actionMain) return [403, { error: 'Cannot run an uninitialized action.' }];
    if (!body || typeof body !== 'object') body = {};
    const env = {};
    for (const [k, v] of Object.entries(body)) {
        if (k !== 'value' && v !== null && v !== undefined) env['__OW_' + k.toUpperCase()] = envString(v);
    }
    Object.assign(realEnv, env); // the process-wide values: the latest activation's
    const params = body.value === undefined || body.value === null ? {} : body.value;
    const ended = await invoke(params, env);
    if (ended.isRejection) {
        await writeSentinels();
        return [200, rejectionResult(ended.rejected)];
    }
    if ('thrown' in ended) {
        // As OpenWhisk's runtime (service.js): a thrown error is a failed run.
        logError(ended.thrown);
        await writeSentinels();
        return [502, { error: `An error has occurred: ${asText(ended.thrown)}` }];
    }
    let result = ended.value;
    if (result === undefined) result = {};
    let payload;
    // An object or an array, as OpenWhisk's runtime (service.js) accepts since
    // its array results (apache/openwhisk-runtime-nodejs "support array result").
    if (result !== null && typeof result === 'object') {
        try {
            payload = JSON.stringify(result);
        } catch (err) {
            console.error(`The action's result is not JSON serialisable: ${err.message}`);
        }
        // toJSON() gave neither an object nor an array
        if (payload !== undefined && payload[0] !== '{' && payload[0] !== '[') payload = undefined;
    } else if (result === null) {
        // OpenWhisk's service.js answers null with 200 (typeof null is 'object'), and
        // its invoker calls it "not a valid JSON or JSON Array response: null".
        payload = 'null';
    } else {
        console.error(`The action returned ${typeof result}, not an object.`);
    }
    await writeSentinels();
    if (payload === undefined) return [502, { error: NOT_AN_OBJECT }];
    return [200, payload];
}

// An exception thrown from a callback of an action: fail that activation
// (or, when it cannot be told, every activation in flight) and keep serving.
process.on('uncaughtException', (err) => {
    logError(err);
    const ctx = activation.getStore();
    const victims = ctx && inflight.has(ctx) ? [ctx] : [...inflight];
    for (const v of victims) v.fail(err);
});
process.on('unhandledRejection', (reason) => {
    console.error('Unhandled promise rejection:', reason && reason.stack ? reason.stack : reason);
});

// --- HTTP -----------------------------------------------------------------
function send(res, status, body) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
}

const server = http.createServer((req, res) => {
    const url = req.url.split('?', 1)[0];
    if (req.method !== 'POST' || (url !== '/init' && url !== '/run')) {
        req.resume();
        send(res, 404, { error: 'Use POST /init and POST /run.' });
        return;
    }
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
        size += chunk.length;
        if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
        if (size > MAX_BODY) {
            send(res, 413, { error: 'Request body too large.' });
            return;
        }
        let body;
        try {
            body = size ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
        } catch (err) {
            send(res, 400, { error: `The request body is not JSON: ${err.message}` });
            return;
        }
        (url === '/init' ? doInit(body) : doRun(body)).then(
            ([status, reply]) => send(res, status, reply),
            (err) => { logError(err); send(res, 500, { error: `Proxy error: ${describe(err)}` }); },
        );
    });
});
server.keepAliveTimeout = 0; // keep idle connections: the invoker reuses them
server.headersTimeout = 0;
server.requestTimeout = 0;
server.timeout = 0;
server.listen(PORT, '0.0.0.0');
