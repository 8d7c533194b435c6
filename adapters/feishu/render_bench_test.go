package feishu_test

import (
	"fmt"
	"testing"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/bots"
)

// BenchmarkRenderCard renders an ordinary task card, the 300-item card
// (cut by bytes) and a form of 500 short fields (folded past the
// 200-component limit).
func BenchmarkRenderCard(b *testing.B) {
	short := bots.Card{Title: "500 short fields", Buttons: samples()["task"].Buttons, Inputs: adaptertest.InputKindsCard().Inputs}
	for i := range 500 {
		short.Fields = append(short.Fields, bots.Field{Label: fmt.Sprint("f", i), Value: "v"})
	}
	for name, c := range map[string]bots.Card{"task": samples()["task"], "items_300": samples()["items_300"], "fields_500": short} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := feishu.RenderCard(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
