// Package feishutest is an in-process fake of Feishu's open platform for
// tests and local demos: tenant tokens with expiry, message create / patch
// and delayed card update (every call recorded, bearer token, body shape
// and the 30 KB card request limit checked, answers in Feishu's JSON), the
// bot's info (its open_id), rate-limit answers and gateway or network
// failures on demand (RateLimitNext, FailNext),
// the long connection's bootstrap and protobuf frames, and delivery of
// messages and card clicks to an adapter's webhook, signed and encrypted
// exactly like Feishu, or pushed through its long connection. A click's
// answer card replaces the clicked message, as in Feishu's client.
// NewServerAt and the Try... methods serve cmd/feishufake, which runs the
// fake by hand.
//
// It imports the Feishu SDK only for its wire types (ws frames, event
// signature); it knows nothing of bots or flows. Import it from tests and
// from cmd/flowbot's demo and cmd/feishufake only.
package feishutest
