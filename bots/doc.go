// Package bots is the chat layer of flowbot: it turns one platform-neutral
// inbound Event (a message or a card click) into engine calls and answers
// with a Reply of texts and platform-neutral Cards; it also renders the
// engine's outbox messages into cards for the notifier (Render).
//
// It owns the commands (/leave, /todo, /mine, /status, /withdraw, /urge,
// /resubmit, /stats, /flows, /help, /cancel and their Chinese aliases), the
// field-by-field conversation that fills a form and, before submitting,
// lets the user change fields with name=value (state in a StateStore with a
// TTL); the same conversation amends a request returned for changes and
// resubmits it. It also owns inbound event dedupe (Deduper), the cards
// (TaskCard, RequestCard, summary and list cards; their JSON is pinned by
// golden files in testdata/golden, rewritten with `go test -run
// TestGoldenCards -update`) and every user-visible text of the chat layer
// in Chinese and English (messages.go, T).
//
// When a click's answer replaces the clicked card by a task or request
// card, the bot records that platform message (flows.MessageRef, under the
// platform key the notifier uses) so that later card updates reach it.
//
// It also owns the inbox of events an adapter acknowledged before they
// were handled (Keep, Done, ReplayInbox in inbox.go): kept before the
// platform's answer, replayed once through Handle after a crash.
//
// It imports only flows, flows/flowdef and flows/flowstats (for /stats):
// never adapters or stores. The interfaces it needs (StateStore, Deduper,
// Messenger, Locker in types.go; Inbox in inbox.go) are implemented by
// store/* and adapters/*.
package bots
