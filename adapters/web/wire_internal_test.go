package web

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

// TestWireCarriesInputKinds: the page needs each input's kind, options,
// pre-filled value and whether it is required to draw the native control.
func TestWireCarriesInputKinds(t *testing.T) {
	t.Parallel()
	c := &bots.Card{Title: "t", Inputs: []bots.Input{
		{Name: "type", Label: "类型", Kind: bots.InputSelect, Options: []bots.Option{{Value: "annual", Label: "年假"}}, Value: "annual", Required: true},
		{Name: "when", Kind: bots.InputDateRange, Value: "2026-12-01~2026-12-03"},
		{Name: "reason"},
	}}
	w := toWire(c)
	require.Equal(t, []wireInput{
		{Name: "type", Label: "类型", Kind: "select", Options: []wireOption{{Value: "annual", Label: "年假"}}, Value: "annual", Required: true},
		{Name: "when", Kind: "date_range", Value: "2026-12-01~2026-12-03"},
		{Name: "reason"},
	}, w.Inputs)
}
