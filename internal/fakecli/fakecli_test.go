package fakecli_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/internal/fakecli"
)

func TestServe(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	w := fakecli.NewWriter(&out)
	err := fakecli.Serve(context.Background(), strings.NewReader("a\n\nb c\n"), func(line string) { w.Printf("[%s]\n", line) })
	require.NoError(t, err)
	require.Equal(t, "[a]\n[]\n[b c]\n", out.String(), "every line in order, until the input ends")

	// A cancelled context ends Serve while the input stays open.
	ctx, cancel := context.WithCancel(context.Background())
	inR, inW := io.Pipe()
	defer inW.Close()
	done := make(chan error, 1)
	go func() { done <- fakecli.Serve(ctx, inR, func(string) {}) }()
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}
