// Package wecom connects the bot to WeCom (企业微信) self-built apps.
//
// Inbound, the adapter serves /webhook/wecom: the GET URL check (echostr)
// and POSTed encrypted XML callbacks, checked by msg_signature (constant
// time), decrypted (AES-256-CBC, IV = key[:16], PKCS#7 with 32-byte
// blocks), with the receiveid checked against the corp id, a replay
// window on the timestamp and a body limit. Text messages and
// template_card_event clicks become bots.Events; every callback is
// answered with an empty 200 (WeCom retries otherwise). With a Directory
// (WithDirectory), change_contact callbacks are decoded by
// wecomdir.DecodeChangeContact and handed to it (contact.go).
//
// Outbound, bots.Card renders as a button_interaction template card; a
// click's card is applied with update_template_card and the click's
// single-use response_code, other copies with the code kept from their
// send. Sends go through a queue per recipient that keeps WeCom's silent
// per-member limit (30 a minute, 1,000 an hour per app), are idempotent
// per key, and split text over 2,048 bytes. Inputs a template card cannot
// hold are asked in the chat as a short follow-up bound to the click.
//
// The SDK github.com/silenceper/wechat/v2 gives the signature; its URLs
// are hard-coded, so the adapter builds WeCom URLs from its config.
package wecom
