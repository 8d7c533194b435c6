package flowdef_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows/flowdef"
)

const fileFlow = `
id: receipt
name: {zh: 报销, en: Expense}
fields:
  - id: receipt
    type: file
    label: {zh: 发票, en: Receipt}
    required: true
    max_size: 2MB
    accept: [application/pdf, image/*]
steps:
  - id: m
    name: {zh: 上级, en: Manager}
    approvers: [{manager: 1}]
`

// A file field carries its size and type limits; its value is a File,
// also after a trip through JSON; text is no file; a file over the
// flow's limit is refused.
func TestFileField(t *testing.T) {
	t.Parallel()
	d, err := flowdef.Parse("receipt.yaml", []byte(fileFlow))
	require.NoError(t, err)
	f := d.Field("receipt")
	require.Equal(t, flowdef.FieldFile, f.Type)
	require.Equal(t, int64(2<<20), f.MaxSize)
	require.Equal(t, []string{"application/pdf", "image/*"}, f.Accept)

	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	want := flowdef.File{Key: "0123456789abcdef0123456789abcdef", Name: "发票.pdf", Type: "application/pdf", Size: 1234}
	v, err := flowdef.Normalize(f, map[string]any{"key": want.Key, "name": want.Name, "type": want.Type, "size": float64(1234)}, now)
	require.NoError(t, err)
	require.Equal(t, want, v)
	require.Equal(t, "发票.pdf (1.2 KB)", flowdef.FormatValue(f, want, "zh-CN"))

	for name, bad := range map[string]any{
		"text":     "receipt.pdf",
		"bad key":  map[string]any{"key": "../x", "name": "a.pdf", "size": float64(1)},
		"no name":  map[string]any{"key": want.Key, "size": float64(1)},
		"too big":  flowdef.File{Key: want.Key, Name: "a.pdf", Size: 3 << 20},
		"negative": flowdef.File{Key: want.Key, Name: "a.pdf", Size: -1},
	} {
		_, err := flowdef.Normalize(f, bad, now)
		require.Error(t, err, name)
	}
	_, problems := d.CheckForm(map[string]any{}, now)
	require.Contains(t, problems, "receipt", "a required file is required")
}

func TestFileFieldMistakes(t *testing.T) {
	t.Parallel()
	for name, field := range map[string]string{
		"accept on text":   "{id: a, type: text, accept: [image/*]}",
		"size on number":   "{id: a, type: number, max_size: 1MB}",
		"bad size":         "{id: a, type: file, max_size: lots}",
		"zero size":        "{id: a, type: file, max_size: 0}",
		"bad content type": "{id: a, type: file, accept: [pdf]}",
		"accept not list":  "{id: a, type: file, accept: image/*}",
		"min on file":      "{id: a, type: file, min: 1}",
	} {
		src := "id: x\nname: {zh: x, en: x}\nfields:\n  - " + field + "\nsteps:\n  - {id: m, name: {zh: m, en: m}, approvers: [{manager: 1}]}\n"
		_, err := flowdef.Parse("x.yaml", []byte(src))
		require.Error(t, err, name)
	}
}
