// Package fakecli owns what the platform fakes' commands (cmd/feishufake,
// cmd/dingtalkfake, cmd/wecomfake, cmd/teamsfake) share: reading command
// lines from stdin until it ends or the context is done, and one writer
// that serialises the command loop's prints with the fake's own.
package fakecli
