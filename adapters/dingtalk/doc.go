// Package dingtalk connects DingTalk (钉钉) enterprise apps to the bot.
//
// Inbound: Stream mode (the gateway's connections/open through the
// open-dingtalk SDK, then a WebSocket of JSON frames the adapter reads and
// acknowledges itself, reconnecting with backoff) or the HTTP robot
// callback (timestamp + sign headers, checked in constant time, a replay
// window and a body limit). Bot messages and card callbacks become
// bots.Events; duplicates by message id are handled once. With a Directory
// (WithDirectory), Stream connections also subscribe to events, and the
// organisation events are decoded by dingtalkdir.DecodeOrgEvent and handed
// to it (orgevent.go).
//
// Outbound: plain HTTP to DingTalk's OpenAPI (configurable base URL,
// caller's *http.Client): access token per app, robot 1:1 and group sends,
// and card-platform cards (createAndDeliver, PUT /v1.0/card/instances)
// from the template in template/. In text-only mode cards become markdown
// with /approve N and /reject N reason commands.
//
// The package imports bots (and bots/dirsync) and its own subpackages only;
// adapters/dingtalk/dingtalktest is its fake.
package dingtalk
