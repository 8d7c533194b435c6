// Package web is the playground adapter: a small IM in the browser, served
// by the flowbot process itself, so that a newcomer can try the whole product
// with no IM account, and so that browser end-to-end tests have a chat to
// drive.
//
// It owns the platform "web": the page (index.html, app.js, style.css,
// embedded, vanilla JS, no CDN), its JSON API (api/users, api/history,
// api/send, api/action, api/clock), the server-sent event stream
// (api/events) that pushes new and updated messages live to every open tab,
// and the bots.Messenger that the notifier uses to deliver cards to web
// users. It renders the same platform-neutral bots.Card as every other
// adapter.
//
// Like every adapter it only translates: a typed message or a card click
// becomes one bots.Event handed to the Handler (the bot), and the bots.Reply
// becomes chat messages, a toast and a replaced card. It has no rules of its
// own. It imports bots only, never flows, store or another adapter; the demo
// controls (the user directory, the clock) come in as plain functions of
// Config, wired by cmd/flowbot.
//
// Chat history lives in process memory, bounded per user (Config.History):
// that is acceptable for a playground, but it means a restart empties every
// chat and Update of a message sent before the restart fails with
// ErrUnknownMessage. Business state is not affected: it lives in the store.
//
// Demo mode (Config.Demo) lets anyone act as anyone: the page shows a user
// picker and a banner saying so. Outside demo mode the user must come from
// Config.Identify (the lead's authentication); without it every request is
// refused.
package web
