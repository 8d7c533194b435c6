// Package dingtalktest is an in-process fake of DingTalk's servers for
// tests and demos: the Stream gateway (connections/open checking the
// app's credentials, a WebSocket that sends bot, card, SYSTEM ping and
// disconnect frames and checks every ack), the access token endpoint with
// expiry, robot 1:1 and group sends, card createAndDeliver and update, and
// the HTTP robot callback's signed requests. It records every call and can
// answer like DingTalk does when things go wrong (errcode inside 200,
// flow control, 429).
//
// Import it only from tests and cmd/*.
package dingtalktest
