package dingtalk_test

import (
	"testing"

	"github.com/flowbot/flowbot/adapters/dingtalk"
)

func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte(`{"msgId":"m","conversationId":"c","conversationType":"1","senderStaffId":"u","text":{"content":"/help"}}`))
	f.Add([]byte(`{"msgId":"m","conversationId":"c","conversationType":"2","isInAtList":true,"text":{"content":"@bot hi"}}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := dingtalk.DecodeMessage(data)
		if err == nil && (m.MsgID == "" || m.ConversationID == "") {
			t.Fatalf("accepted a message without ids: %s", data)
		}
	})
}

func FuzzDecodeCardCallback(f *testing.F) {
	f.Add([]byte(`{"outTrackId":"o","userId":"u","content":"{\"cardPrivateData\":{\"actionIds\":[\"btn0\"],\"params\":{\"btn\":\"{\\\"a\\\":\\\"approve\\\",\\\"s\\\":\\\"x\\\"}\"}}}"}`), "secret")
	f.Add([]byte(`{"outTrackId":"o","userId":"u","content":"{}"}`), "s")
	f.Add([]byte(`null`), "")
	f.Fuzz(func(t *testing.T, data []byte, secret string) {
		// Without the secret's MAC nothing decodes; nothing panics.
		if _, err := dingtalk.DecodeCardCallback(data, secret+"-fuzz"); err == nil {
			t.Fatalf("accepted a callback with a forged token: %s", data)
		}
	})
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte(`{"specVersion":"1.0","type":"CALLBACK","headers":{"topic":"/v1.0/im/bot/messages/get","messageId":"m"},"data":"{}"}`))
	f.Add([]byte(`{"headers":null}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		df, err := dingtalk.DecodeFrame(raw)
		if err == nil && (df.GetMessageId() == "" || df.GetTopic() == "") {
			t.Fatalf("accepted a frame without messageId or topic: %s", raw)
		}
	})
}
