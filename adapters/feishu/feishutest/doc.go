// Package feishutest is an in-process fake of Feishu's open platform for
// tests and local demos: tenant tokens with expiry, message create / patch
// and delayed card update (every call recorded, bearer token and body
// shape checked, answers in Feishu's JSON), rate-limit answers on demand,
// the long connection's bootstrap and protobuf frames, and delivery of
// messages and card clicks to an adapter's webhook, signed and encrypted
// exactly like Feishu, or pushed through its long connection.
//
// It imports the Feishu SDK only for its wire types (ws frames, event
// signature); it knows nothing of bots or flows. Import it from tests and
// from cmd/flowbot's demo only.
package feishutest
