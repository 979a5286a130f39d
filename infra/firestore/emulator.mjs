// Launcher for the npm Firestore emulator (@firestore-emulator/server), bound to loopback.
//
// FirestoreServer.start() always binds 0.0.0.0, so we bind its gRPC server ourselves on
// 127.0.0.1 instead: nothing outside this machine can reach the emulator. The emulator
// keeps everything in memory; when FIRESTORE_SNAPSHOT is set, documents are written to
// that file on SIGTERM/SIGINT and loaded back on the next start, so a restart keeps the
// data like the other local servers do. Like a Firestore TTL policy on FIRESTORE_TTL_FIELD,
// documents whose timestamp in that field has passed are not kept across a restart, so
// the emulator's memory (it has no deletion of its own) stays bounded over many test runs.
//
// Environment: FIRESTORE_HOST (default 127.0.0.1), FIRESTORE_PORT (default 8080),
// FIRESTORE_SNAPSHOT (optional path of the snapshot file), FIRESTORE_TTL_FIELD (optional).
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

import {
  FirestoreServer,
  FirestoreStateCollection,
  FirestoreStateDocument,
} from "@firestore-emulator/server";
import { ServerCredentials } from "@grpc/grpc-js";

const require = createRequire(import.meta.url);
// The same module instance the emulator itself requires, so Write objects are its own.
const { Document, Write } = {
  ...require("@firestore-emulator/proto/dist/google/firestore/v1/document"),
  ...require("@firestore-emulator/proto/dist/google/firestore/v1/write"),
};

const host = process.env.FIRESTORE_HOST || "127.0.0.1";
const port = Number.parseInt(process.env.FIRESTORE_PORT || "8080", 10);
const snapshotPath = process.env.FIRESTORE_SNAPSHOT || "";
const ttlField = process.env.FIRESTORE_TTL_FIELD || "";

function log(message) {
  console.log(`[${new Date().toISOString()}] firestore-emulator: ${message}`);
}

/** Every existing document of the state, found by walking its JSON view. */
function* existingDocuments(state) {
  function* inCollections(collections) {
    for (const collection of Object.values(collections)) {
      for (const document of Object.values(collection.documents)) {
        const live = state.getDocument(document.path);
        if (live.metadata.hasExist) yield live;
        yield* inCollections(document.collections);
      }
    }
  }
  for (const project of Object.values(state.toJSON().projects)) {
    for (const database of Object.values(project.databases)) {
      yield* inCollections(database.collections);
    }
  }
}

function hasExpired(document, nowSeconds) {
  const field = ttlField ? document.getField(ttlField) : undefined;
  return field?.type === "timestamp_value" && field.value.seconds < nowSeconds;
}

function saveSnapshot(state) {
  const nowSeconds = Date.now() / 1000;
  const documents = [];
  let expired = 0;
  for (const document of existingDocuments(state)) {
    if (hasExpired(document, nowSeconds)) {
      expired += 1;
      continue;
    }
    documents.push(Buffer.from(document.toV1Document().serializeBinary()).toString("base64"));
  }
  // Write then rename, so an interrupted save never leaves a truncated snapshot.
  writeFileSync(`${snapshotPath}.tmp`, JSON.stringify({ version: 1, documents }));
  renameSync(`${snapshotPath}.tmp`, snapshotPath);
  return `${documents.length} document(s)${ttlField ? `, dropped ${expired} past ${ttlField}` : ""}`;
}

function loadSnapshot(state) {
  let text;
  try {
    text = readFileSync(snapshotPath, "utf8");
  } catch (error) {
    if (error.code === "ENOENT") return 0;
    throw error;
  }
  const { documents } = JSON.parse(text);
  const now = new Date();
  for (const encoded of documents) {
    const saved = Document.deserializeBinary(Buffer.from(encoded, "base64"));
    // Replayed as ordinary writes of the saved messages (no round trip through plain
    // objects, which loses which value of a oneof is set). The emulator rejects writes that
    // carry timestamps, so create/update times become the time of this start.
    const update = new Document({ name: saved.name, fields: saved.fields });
    state.writeV1Document(now, new Write({ update }));
  }
  return documents.length;
}

// The emulator adds a document to a collection by copying and freezing the collection's
// whole document map (immer), so each new document costs time in proportion to the
// documents already there: 0.4 ms at 1,000, 2.9 ms at 5,000, 13 ms at 20,000 (measured
// with its immer). A chat's batches grow by thousands in a ten-minute soak, and the
// emulator then used a third of this machine's cores, which the soak timed as our send
// latency. Firestore itself has no such cost, so new documents go into the map in place.
function addDocumentsInPlace() {
  const prototype = FirestoreStateCollection?.prototype;
  if (typeof prototype?.getDocument !== "function" || typeof FirestoreStateDocument !== "function") {
    console.error(
      "firestore-emulator: this @firestore-emulator/server version has no FirestoreStateCollection.getDocument; update emulator.mjs",
    );
    process.exit(1);
  }
  prototype.getDocument = function getDocument(name) {
    let document = Object.hasOwn(this.documents, name) ? this.documents[name] : undefined;
    if (document === undefined) {
      // The map immer made is frozen: copy it once, then it stays ours to extend.
      if (Object.isFrozen(this.documents)) this.documents = { ...this.documents };
      document = new FirestoreStateDocument(this.emitter, this.database, this, name, {}, {});
      this.documents[name] = document;
    }
    return document;
  };
}
addDocumentsInPlace();

const emulator = new FirestoreServer();
// `server` is the emulator's gRPC server with the Firestore service already added; it is
// private in the TypeScript types but a plain property at run time (version pinned).
const grpcServer = emulator.server;
if (!grpcServer || typeof grpcServer.bindAsync !== "function") {
  console.error(
    "firestore-emulator: this @firestore-emulator/server version has no .server; update emulator.mjs",
  );
  process.exit(1);
}

if (snapshotPath) {
  try {
    log(`loaded ${loadSnapshot(emulator.state)} document(s) from ${snapshotPath}`);
  } catch (error) {
    console.error(`firestore-emulator: cannot load ${snapshotPath} (${error.message});`);
    console.error("firestore-emulator: move that file away to start with an empty emulator");
    process.exit(1);
  }
}

grpcServer.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, bound) => {
  if (error) {
    console.error(`firestore-emulator: cannot listen on ${host}:${port}: ${error.message}`);
    process.exit(1);
  }
  log(`listening on ${host}:${bound} (FIRESTORE_EMULATOR_HOST=${host}:${bound}, any project id)`);
});

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  log(`${signal} received, stopping`);
  // Listeners are open streams that never end by themselves; close them at once.
  grpcServer.forceShutdown();
  if (snapshotPath) {
    log(`saved ${saveSnapshot(emulator.state)} to ${snapshotPath}`);
  }
  process.exit(0);
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
