// Package notify is the outbox drainer: it claims the messages the engine
// wrote in its transactions, renders each for its recipient, sends it
// through the Messenger of every platform the recipient is reachable on,
// records the platform message references of cards, and later updates every
// sent copy of a card when its task changes (MsgCardUpdate). Delivery is
// at-least-once with retries and backoff; each send carries the idempotency
// key "outbox-<id>-<platform>" so that a retry after a crash is not shown
// twice. Messages of kind http are handed to the engine (HTTPRunner).
// A store that can hands the notifier the messages it writes due now
// already claimed for it (Take, Taken: take.go), so that they need no
// claim of their own; Nudge then starts them without a claim.
//
// It owns delivery and message references, not what a message says (the
// Renderer, i.e. the bot, does) nor how a platform shows it (the adapters).
// It imports bots and flows only.
package notify
