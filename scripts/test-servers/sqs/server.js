"use strict";
// Runs the npm package local-aws-sqs 2.0.2 as the tests' private SQS server, with the fixes below.
//
//   node server.js NPM_PREFIX ADDRESS PORT_FILE
//
// NPM_PREFIX is where sqs.sh installed the package. The server listens on ADDRESS at a port the kernel
// picks (so no other process can take it between choosing and binding) and writes that port to PORT_FILE
// once it accepts connections.
//
// The queue engine keeps its state in private class fields, which nothing outside the module can reach,
// so the fixes that concern it are edits of the package's bundled source, made here in memory before it
// is compiled; each edit must find its text exactly once, so a different build fails at start instead
// of running half-fixed. The attribute MD5 is replaced from outside, and the HTTP layer below puts
// requests into the shape the package understands and mends its JSON responses.

const fs = require("fs");
const http = require("http");
const path = require("path");
const Module = require("module");
const { Readable } = require("stream");
const { createHash } = require("crypto");

const VERSION = "2.0.2";
const [prefix, address, portFile] = process.argv.slice(2);
if (!prefix || !address || !portFile) {
  console.error("usage: node server.js NPM_PREFIX ADDRESS PORT_FILE");
  process.exit(2);
}
const pkgDir = path.join(prefix, "node_modules", "local-aws-sqs");
const pkgVersion = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
if (pkgVersion !== VERSION) {
  console.error(`local-aws-sqs ${pkgVersion} is installed; these fixes are for ${VERSION}`);
  process.exit(2);
}

// [why, text in dist/index.js, replacement]
const EDITS = [
  [
    // ReceiveMessage waited until it had MaxNumberOfMessages or WaitTimeSeconds had passed, so a long
    // poll for 10 that found 1 message held it for the whole wait; SQS answers as soon as it has any.
    // It also always slept a 10 ms tick first, and 40 ms more when short of the maximum. Now it takes
    // what is visible at once, and only an empty result waits, rechecking every 10 ms, until a message
    // comes, the wait is over, or the client has gone (so a cancelled poll does not swallow messages).
    "receive returns as soon as it has a message",
    "Fs=function(t,e,i){return p(this,null,function*(){let r=[],n,o,a=new Promise(y=>{o=y}),d=0,c;return n=setTimeout(()=>{clearInterval(c),o()},fr+t*1e3),n.unref(),c=setInterval(()=>{d++;for(let y of S(this,E))if(!y.delayed){if(y.visible){l(this,D,Wt).call(this,y,i);let f=ke({},y);f.record=ke({},f.record),f.record.attributes=ke({},f.record.attributes),r.push(f)}if(r.length==e){clearInterval(c),clearTimeout(n),o();break}}},10),c.unref(),yield a,r.map(y=>y.record)})}",
    "Fs=function(t,e,i,gone){return p(this,null,function*(){let r=[],take=()=>{for(let y of S(this,E)){if(r.length>=e)break;if(!y.delayed&&y.visible){l(this,D,Wt).call(this,y,i);let f=ke({},y);f.record=ke({},f.record),f.record.attributes=ke({},f.record.attributes),r.push(f)}}};take();if(!r.length&&t>0){let end=Date.now()+t*1e3;yield new Promise(done=>{let c=setInterval(()=>{if(gone&&gone()){clearInterval(c);return done()}take();if(r.length||Date.now()>=end){clearInterval(c);done()}},10)})}return r.map(y=>y.record)})}",
  ],
  [
    "the request's closed-connection check reaches the poll",
    "function*({VisibilityTimeout:t,WaitTimeSeconds:e,MaxNumberOfMessages:i})",
    "function*({VisibilityTimeout:t,WaitTimeSeconds:e,MaxNumberOfMessages:i,Gone:gone})",
  ],
  ["", "l(this,D,Fs).call(this,n,Number(o),Number(t))", "l(this,D,Fs).call(this,n,Number(o),Number(t),gone)"],
  [
    "",
    "receive({VisibilityTimeout:e,WaitTimeSeconds:i,MaxNumberOfMessages:r})",
    "receive({VisibilityTimeout:e,WaitTimeSeconds:i,MaxNumberOfMessages:r,Gone:()=>this.req.cqGone})",
  ],
  [
    // A message sent without delay was marked delayed until a 0 ms timer ran, and a visibility timeout
    // changed to 0 ended only on a timer too, so a receive that followed at once on a fast connection
    // could miss a message that SQS shows at once. Both now take effect immediately.
    "no delay means visible at once",
    "ie(this,ge)._++,setTimeout(()=>{i.delayed=!1,ie(this,ge)._--},r).unref(),",
    "r>0?setTimeout(()=>{i.delayed=!1},r).unref():i.delayed=!1,",
  ],
  [
    "",
    ",t.tm&&clearTimeout(t.tm),t.tm=setTimeout(()=>{t&&(this.RedrivePolicy&&Number(t.record.attributes.ApproximateReceiveCount)>=this.RedrivePolicy.maxReceiveCount?S(this,je).call(this,t):t.visible=!0)},r),t.tm.unref(),t.tmStart=Date.now()}",
    ";t.tm&&clearTimeout(t.tm);let expire=()=>{t&&(this.RedrivePolicy&&Number(t.record.attributes.ApproximateReceiveCount)>=this.RedrivePolicy.maxReceiveCount?S(this,je).call(this,t):t.visible=!0)};if(i&&r<=0){t.tm=void 0;expire();return}t.tm=setTimeout(expire,r),t.tm.unref(),t.tmStart=Date.now()}",
  ],
  [
    // SendMessageBatch over the Query protocol dropped each entry's DelaySeconds.
    "Query batch entries keep DelaySeconds",
    '"MessageBody"in i&&(r.MessageBody=i.MessageBody),',
    '"MessageBody"in i&&(r.MessageBody=i.MessageBody),"DelaySeconds"in i&&(r.DelaySeconds=i.DelaySeconds),',
  ],
  [
    // The in-flight limit (120,000) was checked against the visible messages instead of those in flight.
    "in-flight limit counts messages in flight",
    "c=a-d;if(o+c>=S(this,Me))",
    "c=d;if(o+c>=S(this,Me))",
  ],
  [
    // ChangeMessageVisibility went through the receive path and so counted as a receive: each extension
    // raised ApproximateReceiveCount and brought a RedrivePolicy's dead-letter move closer.
    "changing visibility is not a receive",
    "let n=Number(t.record.attributes.ApproximateReceiveCount)+1;t.record.attributes.ApproximateReceiveCount=String(n),n==1&&",
    "let n=Number(t.record.attributes.ApproximateReceiveCount)+(i?0:1);t.record.attributes.ApproximateReceiveCount=String(n),!i&&n==1&&",
  ],
  [
    // On a standard queue, ChangeMessageVisibility of a message not in flight hid it again (SQS refuses
    // with MessageNotInflight), and of a deleted message answered ReceiptHandleIsInvalid with HTTP 404
    // (SQS: 400 InvalidParameterValue, as this package already does for FIFO queues).
    "ChangeMessageVisibility errors as SQS",
    "if(this.FifoQueue&&(!r||r.visible||t!=r.record.ReceiptHandle))throw new u(`Value ${t} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available",
    'if(r&&r.visible&&!this.FifoQueue)throw new T({Code:"AWS.SimpleQueueService.MessageNotInflight",Type:"com.amazonaws.sqs#MessageNotInflight",Message:"The message referred to isn\'t in flight."});if(!r||this.FifoQueue&&(r.visible||t!=r.record.ReceiptHandle))throw new u(`Value ${t} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available',
  ],
  [
    // ApproximateNumberOfMessages counted messages in flight too; SQS counts those available to receive.
    // The delayed count was a counter that a purge did not reset; it is now counted like the others.
    "queue counts as SQS",
    "ApproximateNumberOfMessages:String(S(this,E).filter(o=>!o.delayed).length)",
    "ApproximateNumberOfMessages:String(S(this,E).filter(o=>!o.delayed&&o.visible).length)",
  ],
  ["", "ApproximateNumberOfMessagesDelayed:String(S(this,ge))", "ApproximateNumberOfMessagesDelayed:String(S(this,E).filter(o=>o.delayed).length)"],
  // The message-move task derived the visible count from the old meaning of ApproximateNumberOfMessages.
  ["", "this.ApproximateNumberOfMessagesToMove=Number(n)-Number(o)", "this.ApproximateNumberOfMessagesToMove=Number(n)"],
  [
    // PurgeQueue (and DeleteQueue with the queue-lifecycle emulation, which sqs.sh turns off) deleted the
    // messages only 60 s later and refused another purge meanwhile, so a test that purges and goes on
    // still saw the old messages. SQS may take up to 60 s but usually drops them at once; so does this now.
    "purge at once",
    'h(this,"purge",t=>this.purgeInProgress?!1:(this.purgeInProgress=!0,setTimeout(()=>{this.clearRecords(),t==null||t(),this.purgeInProgress=!1},60*1e3).unref(),!0))',
    'h(this,"purge",t=>(this.clearRecords(),t==null||t(),!0))',
  ],
  [
    // A queue's VisibilityTimeout of 0 was taken as "not given" and became 30.
    "queue VisibilityTimeout 0",
    "g&&(this.VisibilityTimeout=g)",
    'typeof g=="number"&&(this.VisibilityTimeout=g)',
  ],
  // The Query protocol's XML carried message bodies, attribute values and error messages unescaped (but
  // for '"'), so a body with '&' or '<' broke the response for boto3/kombu. SQS also escapes CR, as &#xD;,
  // so that it survives XML's newline normalisation.
  ["XML escaping", '${a.MessageBody.replace(/"/g,"&quot;")}', "${__cqXml(a.MessageBody)}"],
  ["", '${a.Message.replace(/"/g,"&quot;")}', "${__cqXml(a.Message)}", 2],
  ["", "<Value>${f}</Value>", "<Value>${__cqXml(f)}</Value>"],
  ["", "<Value>${a.attributes[c]}</Value>", "<Value>${__cqXml(a.attributes[c])}</Value>"],
  ["", "<StringValue>${g.StringValue}</StringValue>", "<StringValue>${__cqXml(g.StringValue)}</StringValue>"],
  ["", "<StringValue>${N.StringValue}</StringValue>", "<StringValue>${__cqXml(N.StringValue)}</StringValue>"],
  ["", "<Value>${e[r]}</Value>", "<Value>${__cqXml(e[r])}</Value>"],
  ["", "<Message>${r}</Message>", "<Message>${__cqXml(r)}</Message>"],
];

const XML_HELPER = `
function __cqXml(s){return String(s).replace(/[&<>"'\\r]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&apos;","\\r":"&#xD;"})[c])}
`;

function loadPatchedPackage() {
  const file = path.join(pkgDir, "dist", "index.js");
  let src = fs.readFileSync(file, "utf8");
  for (const [why, from, to, times = 1] of EDITS) {
    const found = src.split(from).length - 1;
    if (found !== times) {
      throw new Error(`edit ${JSON.stringify(why || from.slice(0, 60))}: found its text ${found} times, expected ${times}`);
    }
    src = src.split(from).join(to);
  }
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  // MD5OfMessageAttributes used the UTF-16 length of names, types and string values where AWS uses the
  // UTF-8 byte length, so any non-ASCII attribute gave a digest the SDKs reject. The package looks the
  // function up on the dependency's exports at each call, so replacing it there is enough.
  mod.require("aws-md5-of-message-attributes").md5OfMessageAttributes = md5OfMessageAttributes;
  mod._compile(src + XML_HELPER, file);
  return mod.exports;
}

// AWS's algorithm: sorted by name; per attribute the name, the data type, a transport byte (1 string,
// 2 binary) and the value, each length-prefixed with 4 big-endian bytes of its UTF-8 length.
function md5OfMessageAttributes(attributes) {
  const parts = [];
  const field = (buf) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(buf.length);
    parts.push(len, buf);
  };
  for (const name of Object.keys(attributes).sort()) {
    const { DataType, StringValue, BinaryValue } = attributes[name];
    field(Buffer.from(name, "utf8"));
    field(Buffer.from(DataType, "utf8"));
    if (String(DataType).startsWith("Binary")) {
      parts.push(Buffer.from([2]));
      field(Buffer.from(BinaryValue, "base64"));
    } else {
      parts.push(Buffer.from([1]));
      field(Buffer.from(StringValue, "utf8"));
    }
  }
  return createHash("md5").update(Buffer.concat(parts)).digest("hex");
}

const JSON_TYPE = "application/x-amz-json-1.0";

// Puts the request into the shape the package understands, then lets it answer.
function handle(inner, req, res, body) {
  const headers = { ...req.headers };
  // The package took only an exact "application/x-amz-json-1.0" for the JSON protocol; SDKs may add a
  // charset, and X-Amz-Target alone says it is JSON.
  const json = /^application\/x-amz-json/i.test(headers["content-type"] || "") || "x-amz-target" in headers;
  if (json) {
    headers["content-type"] = JSON_TYPE;
    body = fixJsonBody(body);
  } else {
    body = fixQueryBody(req, body);
  }
  // SQS answers every JSON request with a JSON document, "{}" when there is nothing to say (DeleteMessage,
  // an empty ReceiveMessage, ...); the package sent an empty body, which JSON parsers reject.
  if (json) {
    const end = res.end.bind(res);
    res.end = (chunk, ...rest) => end(chunk === undefined || chunk === null || chunk === "" ? "{}" : chunk, ...rest);
  }
  const fake = Readable.from(body.length ? [body] : []);
  fake.headers = headers;
  fake.method = req.method;
  fake.url = req.url;
  fake.cqGone = false;
  res.on("close", () => {
    if (!res.writableFinished) fake.cqGone = true;
  });
  inner(fake, res).catch((err) => {
    console.error(err);
    if (!res.headersSent) res.statusCode = 500;
    res.end();
  });
}

// AWSSDK.SQS 4 and newer botocore name the system attributes MessageSystemAttributeNames; the package
// reads only the older AttributeNames.
function fixJsonBody(raw) {
  if (!raw.length) return raw;
  let body;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    return raw;
  }
  if (body && Array.isArray(body.MessageSystemAttributeNames)) {
    body.AttributeNames = [...new Set([...(body.AttributeNames || []), ...body.MessageSystemAttributeNames])];
    delete body.MessageSystemAttributeNames;
    return Buffer.from(JSON.stringify(body));
  }
  return raw;
}

function fixQueryBody(req, raw) {
  const url = new URL(req.url, "http://x");
  let text = raw.toString("utf8");
  // A signed GET carries the parameters in the query string.
  if (!text && url.search) text = url.search.slice(1);
  const params = new URLSearchParams(text);
  let changed = text !== raw.toString("utf8");
  // kombu's asynchronous client posts to the queue's URL and leaves QueueUrl out of the parameters,
  // as the Query protocol allows; the package looked only at the parameter.
  if (!params.has("QueueUrl") && url.pathname.replace(/\/+$/, "") !== "") {
    params.set("QueueUrl", `http://${req.headers.host || "localhost"}${url.pathname}`);
    changed = true;
  }
  const system = [...params.keys()].filter((k) => /^MessageSystemAttributeName\.\d+$/.test(k));
  if (system.length) {
    let n = [...params.keys()].filter((k) => /^AttributeName\.\d+$/.test(k)).length;
    for (const k of system) {
      params.append(`AttributeName.${++n}`, params.get(k));
      params.delete(k);
    }
    changed = true;
  }
  return changed ? Buffer.from(params.toString()) : Buffer.from(text);
}

const { createRequestHandler } = loadPatchedPackage();
const { service, requestHandler } = createRequestHandler({
  port: 0,
  hostname: address,
  region: "us-east-1",
  // Tests delete and re-create queues with the same names; SQS makes you wait 60 s, which no test wants.
  emulateQueueCreationLifecycle: false,
});

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => handle(requestHandler, req, res, Buffer.concat(chunks)));
});
// Longer than the idle timeout of the clients' connection pools (.NET's default: 1 min), so a client never sends
// on a connection that the server is just closing; requests may take a 20 s long poll.
server.keepAliveTimeout = 75_000;
server.headersTimeout = 80_000;
server.listen(0, address, () => {
  const { port } = server.address();
  service.PORT = port; // queue URLs carry the real port
  fs.writeFileSync(`${portFile}.tmp`, String(port));
  fs.renameSync(`${portFile}.tmp`, portFile);
  console.log(`local-aws-sqs ${VERSION} listening on ${address}:${port}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
