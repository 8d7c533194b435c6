package flowdef_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// on_reject is one outcome (old definitions stay valid) or the list of
// outcomes a step offers; the first is what a plain reject does.
func TestParseRejectOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		line    string // the finance step's on_reject line
		def     flowdef.RejectAction
		offers  []flowdef.RejectAction
		refuses []flowdef.RejectAction
	}{
		{"old scalar return", "on_reject: return", flowdef.RejectReturn,
			[]flowdef.RejectAction{flowdef.RejectReturn}, []flowdef.RejectAction{flowdef.RejectEnd, flowdef.RejectSendBack}},
		{"old scalar end", "on_reject: end", flowdef.RejectEnd,
			[]flowdef.RejectAction{flowdef.RejectEnd}, []flowdef.RejectAction{flowdef.RejectReturn, flowdef.RejectSendBack}},
		{"unset is end", "", flowdef.RejectEnd,
			[]flowdef.RejectAction{flowdef.RejectEnd}, []flowdef.RejectAction{flowdef.RejectReturn, flowdef.RejectSendBack}},
		{"list end first", "on_reject: [end, return]", flowdef.RejectEnd,
			[]flowdef.RejectAction{flowdef.RejectEnd, flowdef.RejectReturn}, []flowdef.RejectAction{flowdef.RejectSendBack}},
		{"all three", "on_reject: [return, send_back, end]", flowdef.RejectReturn,
			[]flowdef.RejectAction{flowdef.RejectEnd, flowdef.RejectReturn, flowdef.RejectSendBack}, nil},
		{"block list", "on_reject:\n      - send_back\n      - return", flowdef.RejectSendBack,
			[]flowdef.RejectAction{flowdef.RejectSendBack, flowdef.RejectReturn}, []flowdef.RejectAction{flowdef.RejectEnd}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := strings.Replace(goodFlow, "on_reject: return", tc.line, 1)
			d, err := flowdef.Parse("trip.yaml", []byte(src))
			require.NoError(t, err)
			s, _ := d.Step("finance")
			require.Equal(t, tc.def, s.Rejects()[0], "got %v", s.Rejects())
			for _, a := range tc.offers {
				require.True(t, s.Offers(a), "%s: want %s offered, got %v", tc.line, a, s.Rejects())
			}
			for _, a := range tc.refuses {
				require.False(t, s.Offers(a), "%s: want %s refused, got %v", tc.line, a, s.Rejects())
			}
		})
	}
}

// The graph draws every outcome a step offers: the reject end, the return
// to the applicant, and a send-back edge to each earlier approve step.
func TestMermaidSendBack(t *testing.T) {
	t.Parallel()
	src := strings.Replace(goodFlow, "on_reject: return", "on_reject: [end, return, send_back]", 1)
	d, err := flowdef.Parse("trip.yaml", []byte(src))
	require.NoError(t, err)
	out := flowdef.Mermaid(d)
	for _, want := range []string{
		`s1 -.->|"reject"| rejected`,
		`s1 -.->|"退回修改 / back to applicant"| start`,
		`s1 -.->|"退回到此步 / send back"| s0`,
	} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, `s0 -.->|"退回到此步 / send back"|`, "the first step has nothing to send back to")
}
