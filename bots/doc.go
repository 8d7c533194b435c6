// Package bots is the chat layer of flowbot: it turns one platform-neutral
// inbound Event (a message or a card click) into engine calls and answers
// with a Reply of texts and platform-neutral Cards; it also renders the
// engine's outbox messages into cards for the notifier (Render).
//
// It owns the commands (/leave, /todo, /mine, /status, /withdraw, /urge,
// /stats, /flows, /help, /cancel and their Chinese aliases), the
// field-by-field conversation that fills a form (state in a StateStore with
// a TTL), inbound event dedupe (Deduper), the cards (TaskCard, RequestCard,
// summary and list cards) and every user-visible text of the chat layer in
// Chinese and English (messages.go, T).
//
// It imports only flows and flows/flowdef: never adapters or stores. The
// interfaces it needs (StateStore, Deduper, Messenger, Locker) are declared
// in types.go and implemented by store/* and adapters/*.
package bots
