package chaos

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/flowbot/flowbot/examples"
)

// Company is the example company, as the load generator needs it.
type Company struct {
	OpenID     map[string]string // directory id -> Feishu open_id
	Applicants []string          // users with a manager (whose claims have an approver)
	Users      []string          // every directory id
}

// LoadCompany reads the example company.
func LoadCompany() (*Company, error) { return LoadCompanyN(0) }

// LoadCompanyN reads the example company with extra applicants added
// (see WriteFixturesN).
func LoadCompanyN(extra int) (*Company, error) {
	org, err := readOrg()
	if err != nil {
		return nil, err
	}
	org.grow(extra)
	c := &Company{OpenID: map[string]string{}}
	for _, u := range org.Users {
		id, _ := u["id"].(string)
		p, _ := u["platforms"].(map[string]any)
		open, _ := p["feishu"].(string)
		if id == "" || open == "" {
			return nil, fmt.Errorf("chaos: user %v of the example company has no feishu open_id", u["id"])
		}
		c.OpenID[id] = open
		c.Users = append(c.Users, id)
		if m, _ := u["manager"].(string); m != "" {
			c.Applicants = append(c.Applicants, id)
		}
	}
	if len(c.Applicants) == 0 {
		return nil, fmt.Errorf("chaos: the example company has no user with a manager")
	}
	return c, nil
}

type org struct {
	Departments []map[string]any `yaml:"departments"`
	Users       []map[string]any `yaml:"users"`
}

// grow adds n employees ("load0001"...) to the example company, each
// reporting to one of the example company's managers in turn, with a
// Feishu open_id of their own: more conversations at once for a
// throughput run (one filing at a time per applicant).
func (o *org) grow(n int) {
	if n <= 0 {
		return
	}
	var managers []map[string]any
	for _, u := range o.Users {
		if _, ok := u["manager"].(string); !ok {
			continue
		}
		id, _ := u["id"].(string)
		for _, v := range o.Users {
			if m, _ := v["manager"].(string); m == id {
				managers = append(managers, u)
				break
			}
		}
	}
	if len(managers) == 0 {
		return
	}
	for i := range n {
		m := managers[i%len(managers)]
		id := fmt.Sprintf("load%04d", i+1)
		o.Users = append(o.Users, map[string]any{
			"id": id, "name": "Load " + id, "dept": m["dept"], "manager": m["id"], "roles": []string{"employee"},
			"locale": "en", "platforms": map[string]any{"feishu": "ou_" + id},
		})
	}
}

func readOrg() (*org, error) {
	src, err := examples.FS.ReadFile("org.yaml")
	if err != nil {
		return nil, fmt.Errorf("chaos: read example org: %w", err)
	}
	var o org
	if err := yaml.Unmarshal(src, &o); err != nil {
		return nil, fmt.Errorf("chaos: decode example org: %w", err)
	}
	return &o, nil
}

// expenseFlow is a one-step expense claim decided by the manager.
const expenseFlow = `id: expense
name: {zh: 报销, en: Expense claim}
aliases: [expense, 报销]
number_prefix: EXP
deadline:
  remind_after: 24h
fields:
  - id: amount
    type: money
    label: {zh: 金额, en: Amount}
    currency: CNY
    required: true
    min: 0.01
  - id: category
    type: select
    label: {zh: 费用类别, en: Category}
    required: true
    options:
      - {value: travel, label: {zh: 差旅, en: Travel}}
      - {value: office, label: {zh: 办公用品, en: Office supplies}}
  - id: description
    type: textarea
    label: {zh: 说明, en: Description}
    required: true
    max: 500
steps:
  - id: manager
    name: {zh: 直属上级审批, en: Manager approval}
    approvers:
      - manager: 1
`

// WriteFixtures writes the expense flow (dir/flows) and the example
// company with Feishu open_ids only (dir/org.yaml), so that every message
// the bot sends goes through the Feishu fake, and returns the config keys
// that point at them.
func WriteFixtures(dir string) (map[string]any, error) { return WriteFixturesN(dir, 0) }

// WriteFixturesN is WriteFixtures with extra applicants in the company
// (LoadCompanyN gives the same company).
func WriteFixturesN(dir string, extra int) (map[string]any, error) {
	return writeFixtures(dir, extra, "feishu")
}

// writeFixtures writes the fixtures with every user on platform only:
// "feishu" (their open_ids, through the fake) or "web" (their directory
// id: the playground's user id), so that every message the bot sends
// goes where the load waits for it.
func writeFixtures(dir string, extra int, platform string) (map[string]any, error) {
	flows := filepath.Join(dir, "flows")
	if err := os.MkdirAll(flows, 0o755); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	if err := os.WriteFile(filepath.Join(flows, "expense.yaml"), []byte(expenseFlow), 0o600); err != nil {
		return nil, fmt.Errorf("chaos: write flow: %w", err)
	}
	o, err := readOrg()
	if err != nil {
		return nil, err
	}
	o.grow(extra)
	for _, u := range o.Users {
		p, _ := u["platforms"].(map[string]any)
		if platform == "web" {
			u["platforms"] = map[string]any{"web": u["id"]}
			continue
		}
		u["platforms"] = map[string]any{"feishu": p["feishu"]}
	}
	b, err := yaml.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("chaos: encode org: %w", err)
	}
	orgPath := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(orgPath, b, 0o600); err != nil {
		return nil, fmt.Errorf("chaos: write org: %w", err)
	}
	return map[string]any{
		"flows":     map[string]any{"dir": flows},
		"directory": map[string]any{"file": orgPath},
	}, nil
}
