// Package adaptertest is the conformance suite every chat adapter runs
// against its platform fake: a genuine signed click gives exactly one
// bots.Event, a forged, replayed or tampered one gives none, and every
// sample card renders within the platform's size limit, the adapter never
// sends a reply from memory (replies go through the outbox) and a send
// retried with the same key shows once, and every input kind round-trips.
//
// An adapter's test implements Harness (wiring a fresh adapter, a fresh
// fake and a Recorder) and calls Run. It imports bots only; import it from
// _test files.
package adaptertest
