package flowdef_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows/flowdef"
)

func TestMermaid(t *testing.T) {
	t.Parallel()
	d, err := flowdef.Parse("trip.yaml", []byte(goodFlow))
	require.NoError(t, err)
	out := flowdef.Mermaid(d)
	require.True(t, strings.HasPrefix(out, "flowchart TD\n"), out)
	for _, want := range []string{
		"start([",
		`s0["manager / manager<br/>approve · any · manager"]`,
		"s1[\"finance / finance<br/>approve · all · role finance, field deputy<br/>when budget > 5000 && kind == #quot;abroad#quot;\"]",
		`s2["tell / tell<br/>notify · cc role hr"]`,
		"approved([Approved / 已通过])",
		"rejected([Rejected / 已拒绝])",
		`s0 -->|"approve · budget > 5000 && kind == #quot;abroad#quot;"| s1`,
		`s0 -->|"approve · not budget > 5000 && kind == #quot;abroad#quot;"| s2`,
		`s1 -->|"approve"| s2`,
		`s1 -.->|"退回修改 / back to applicant"| start`,
		`s0 -.->|"reject"| rejected`,
		"s2 --> approved",
	} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, "s2 -.->", "a notify step cannot reject")
	require.NotContains(t, out, "s1 -.->|\"reject\"| rejected", "a returned request does not end rejected")
}

func TestMermaidOnlyReturns(t *testing.T) {
	t.Parallel()
	src := strings.Replace(goodFlow, "approvers: [{manager: 1}]", "approvers: [{manager: 1}]\n    on_reject: return", 1)
	d, err := flowdef.Parse("trip.yaml", []byte(src))
	require.NoError(t, err)
	out := flowdef.Mermaid(d)
	require.Contains(t, out, `s0 -.->|"退回修改 / back to applicant"| start`)
	require.Contains(t, out, `s1 -.->|"退回修改 / back to applicant"| start`)
	require.NotContains(t, out, "rejected", "no step ends the request rejected: no Rejected box")
}

func TestRenderHTTP(t *testing.T) {
	t.Parallel()
	call := &flowdef.HTTPCall{
		Method: "POST",
		URL:    "https://erp.example.com/po/{{ .Instance.Number }}",
		Body:   `{"number": {{ json .Instance.Number }}, "item": {{ json .Form.item }}, "cents": {{ .Form.amount.Cents }}}`,
	}
	data := map[string]any{
		"Form":     flowdef.Values{"item": `24" monitor`, "amount": flowdef.Money{Cents: 129900, Currency: "CNY"}},
		"Instance": map[string]any{"Number": "PO-20261126-0001"},
	}
	url, body, err := flowdef.RenderHTTP(call, data)
	require.NoError(t, err)
	require.Equal(t, "https://erp.example.com/po/PO-20261126-0001", url)
	var got map[string]any
	require.NoError(t, json.Unmarshal(body, &got))
	require.Equal(t, map[string]any{"number": "PO-20261126-0001", "item": `24" monitor`, "cents": 129900.0}, got)

	bad := *call
	bad.Body = `{"item": {{ .Form.item }}}`
	_, _, err = flowdef.RenderHTTP(&bad, data)
	require.ErrorContains(t, err, "not valid JSON")

	bad.Body = `{{ .Form.item`
	_, _, err = flowdef.RenderHTTP(&bad, data)
	require.ErrorContains(t, err, "parse body template")

	empty := &flowdef.HTTPCall{Method: "GET", URL: "https://erp.example.com/ping"}
	url, body, err = flowdef.RenderHTTP(empty, data)
	require.NoError(t, err)
	require.Equal(t, "https://erp.example.com/ping", url)
	require.Nil(t, body)
}
