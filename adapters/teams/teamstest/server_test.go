package teamstest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/teams/teamstest"
)

func TestFakeConnectorNeedsItsToken(t *testing.T) {
	t.Parallel()
	s := teamstest.NewServer()
	defer s.Close()
	// The token endpoint refuses a request without client credentials.
	resp, err := http.PostForm(s.URL+"/tenant-1/oauth2/v2.0/token", url.Values{"grant_type": {"password"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	// The Connector refuses a call without a token it issued.
	req, _ := http.NewRequest(http.MethodPost, s.ServiceURL()+"v3/conversations/"+url.PathEscape("a:1x;messageid=1")+"/activities", strings.NewReader(`{"type":"message"}`))
	req.Header.Set("Authorization", "Bearer made-up")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Empty(t, s.Activities())
	// Its metadata names its own JWKS.
	resp, err = http.Get(s.MetadataURL())
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
