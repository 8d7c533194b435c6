// Package feishu is the Feishu / Lark adapter: it owns the platform's
// protocol in both directions and nothing else.
//
// Inbound, it verifies and decodes webhook requests (X-Lark-Signature,
// AES decryption, verification token, replay window, body limit) or takes
// events from the SDK's long connection, turns im.message.receive_v1 and
// card.action.trigger into one bots.Event each, and answers a click within
// Feishu's 3 s deadline with a toast and the updated card. With a
// Directory (WithDirectory) the contact change events (contact.user.*_v3,
// contact.department.*_v3) are decoded by feishudir.DecodeEvent and handed
// to it (contact.go).
//
// Outbound, it implements bots.Messenger over the im v1 message API:
// cards are rendered from bots.Card as card JSON 2.0 (render.go), sends are
// idempotent through Feishu's uuid (so 5xx answers, network errors and
// rate-limit answers are retried with backoff until the caller's context
// ends), tenant tokens are cached per app and renewed when Feishu says they
// expired, and rate limits are respected (limit.go: per app 50/s and
// 1000/min over any window, per chat 5/s). A card is cut down until its
// send request, where the card is an escaped JSON string, fits 30 KB.
//
// It imports bots and the Feishu SDK only: never flows, a store or another
// adapter. Business rules (who may approve) belong to the bot and engine.
package feishu
