// Package wecomtest is an in-process fake of WeCom's servers for tests and
// for cmd/wecomfake: gettoken with expiry, message/send (text and
// template cards, task_id uniqueness), update_template_card with
// single-use response codes valid 72 h, WeCom's silent dropping of
// messages past the per-member limit, and helpers that POST encrypted,
// signed callbacks exactly as WeCom does (with the SDK's EncryptMsg and
// Signature).
package wecomtest
