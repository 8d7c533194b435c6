// Package webhooks delivers the flow core's events to outside systems (ERP,
// CRM, OA) as signed HTTP POSTs.
//
// Deliveries are derived from the append-only event log (flows.Store.Events
// with an AfterID cursor): a subscription's cursor and the deliveries it
// produced are written together in one transaction, so a crash loses no
// event, and a delivery sent but not yet recorded is sent again with the
// same id so that receivers can drop the copy. Order is kept per request: a
// delivery waits while an older one of the same request is still pending.
// Only the holder of a subscription's lease (kept in the database) works
// it, so several replicas can run a Dispatcher each.
//
// The package owns the payload, the signature (Sign, Verify), the retry
// policy and the SSRF guard of the HTTP client (NewClient). It imports only
// flows; the stores implement Store (store/sqlite, store/postgres) and run
// the conformance suite in webhooks/webhookstest.
package webhooks
