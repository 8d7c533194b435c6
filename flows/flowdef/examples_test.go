package flowdef_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows/flowdef"
)

func TestExamplesParse(t *testing.T) {
	t.Parallel()
	defs, srcs, err := flowdef.ParseDir("../../examples/flows")
	require.NoError(t, err)
	files, err := filepath.Glob("../../examples/flows/*.yaml")
	require.NoError(t, err)
	require.Len(t, defs, len(files), "one definition per example file")
	byID := map[string]*flowdef.Definition{}
	for _, d := range defs {
		byID[d.ID] = d
		require.NotEmpty(t, d.Name.ZH, "flow %s has a Chinese name", d.ID)
		require.NotEmpty(t, d.Name.EN, "flow %s has an English name", d.ID)
		src, err := os.ReadFile(filepath.Join("../../examples/flows", d.ID+".yaml"))
		require.NoError(t, err)
		require.Equal(t, src, srcs[d.ID])
	}
	for _, id := range []string{"leave", "expense", "purchase", "onboarding"} {
		require.Contains(t, byID, id)
	}
	require.Equal(t, flowdef.CalendarWorking, byID["leave"].Calendar)
	require.ElementsMatch(t, []string{"leave", "请假", "qingjia"}, byID["leave"].Aliases)
	hr, _ := byID["leave"].Step("hr")
	require.NotNil(t, hr)
	require.Equal(t, "period.days > 3", hr.When)
	erp, _ := byID["purchase"].Step("erp")
	require.NotNil(t, erp)
	require.Equal(t, flowdef.StepHTTP, erp.Kind)
	require.Equal(t, "continue", erp.HTTP.OnFailure)
	prep, _ := byID["onboarding"].Step("prepare")
	require.Equal(t, flowdef.ModeAll, prep.Mode)
	var roles []string
	for _, s := range prep.Approvers {
		require.Equal(t, flowdef.SelRole, s.Kind)
		roles = append(roles, s.Value)
	}
	require.Equal(t, []string{"it", "hr", "office"}, roles, "IT, HR and 行政 sign, not the admin (the CEO)")
	mgr := byID["onboarding"].Field("manager")
	require.NotNil(t, mgr)
	require.Equal(t, flowdef.FieldUser, mgr.Type)
	require.True(t, mgr.Required)
	require.Equal(t, flowdef.Text{ZH: "直属上级", EN: "Manager"}, mgr.Label)
	announce, _ := byID["onboarding"].Step("announce")
	require.Equal(t, flowdef.StepNotify, announce.Kind)
	var cc []string
	for _, s := range announce.CC {
		cc = append(cc, string(s.Kind)+":"+s.Value)
	}
	require.Equal(t, []string{"field:manager", "role:hr"}, cc, "the new hire's manager and HR are told")
	for _, d := range defs {
		for _, s := range d.Steps {
			if s.HTTP != nil {
				require.LessOrEqual(t, s.HTTP.WorstCase(), flowdef.MaxHTTPWorstCase, "%s/%s", d.ID, s.ID)
			}
		}
	}
}
