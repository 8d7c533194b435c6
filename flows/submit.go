package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// Submit files a new request: it checks the applicant may start the flow
// and the form, numbers the request, and starts its first step.
func (e *Engine) Submit(ctx context.Context, r SubmitRequest) (*Outcome, error) {
	u, err := e.user(e.reads(ctx), r.Actor)
	if err != nil {
		return nil, err
	}
	fv, err := e.flowByAlias(ctx, r.FlowID)
	if err != nil {
		return nil, err
	}
	def := fv.Def
	if !e.CanStart(ctx, u, def) {
		return nil, Errorf(CodeForbidden, "flow_not_allowed", map[string]any{"flow": def.Name.In(u.Locale)})
	}
	vals, err := e.checkForm(e.reads(ctx), def, r.Values)
	if err != nil {
		return nil, err
	}
	form, err := json.Marshal(vals)
	if err != nil {
		return nil, fmt.Errorf("encode form: %w", err)
	}
	return e.run(ctx, "submit", func(o *op) error {
		if err := e.submitChecks(o, def, u, vals); err != nil {
			return err
		}
		if r.Key != "" {
			// Numbering the key inside this transaction makes it unique
			// with the request: a rolled-back submit does not consume it.
			n, err := o.tx.NextNumber("submit-key:" + u.ID + ":" + r.Key)
			if err != nil {
				return fmt.Errorf("check submission key: %w", err)
			}
			if n > 1 {
				return Errorf(CodeConflict, "already_submitted", nil)
			}
		}
		day := o.now.In(e.cal.Location).Format("20060102")
		prefix := def.NumberPrefix
		if prefix == "" {
			prefix = strings.ToUpper(def.ID)
		}
		n, err := o.tx.NextNumber(prefix + "-" + day)
		if err != nil {
			return fmt.Errorf("number request: %w", err)
		}
		in := &Instance{
			Number: fmt.Sprintf("%s-%s-%04d", prefix, day, n), FlowID: def.ID, FlowVersion: fv.Version,
			Applicant: u.ID, Status: StatusPending, Form: form, StepIndex: -1,
			CreatedAt: o.now, UpdatedAt: o.now,
		}
		if err := o.tx.CreateInstance(in); err != nil {
			return fmt.Errorf("create instance: %w", err)
		}
		o.out.Instance, o.out.Def, o.out.Form, o.out.Applicant = in, def, vals, u
		if err := o.event(in, nil, EvSubmitted, u.ID, false, map[string]any{"number": in.Number, "version": fv.Version}); err != nil {
			return err
		}
		if err := e.advance(o, in, def, u, vals, 0); err != nil {
			return err
		}
		if len(r.ReplyTo) > 0 {
			return o.send(MsgSubmitted, u.ID, in, nil, map[string]any{"reply_to": r.ReplyTo})
		}
		if in.Status == StatusPending && !r.Told {
			return o.send(MsgSubmitted, u.ID, in, nil, nil)
		}
		return nil
	})
}

// checkForm validates values against the definition and the directory.
func (e *Engine) checkForm(r reader, def *flowdef.Definition, in map[string]any) (flowdef.Values, error) {
	vals, problems := def.CheckForm(in, e.clock.Now().In(e.cal.Location))
	if problems == nil {
		problems = map[string]flowdef.Text{}
	}
	for _, f := range def.Fields {
		if f.Type != flowdef.FieldUser {
			continue
		}
		if id, ok := vals[f.ID].(string); ok && id != "" {
			if _, err := r.User(id); err != nil {
				problems[f.ID] = flowdef.Text{ZH: "通讯录里没有用户 " + id, EN: "no user " + id + " in the directory"}
			}
		}
	}
	if len(problems) == 0 {
		return vals, nil
	}
	ids := make([]string, 0, len(problems))
	for id := range problems {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var zh, en []string
	for _, id := range ids {
		label := id
		if f := def.Field(id); f != nil {
			label = f.Label.In("en")
			zh = append(zh, f.Label.In("zh")+"："+problems[id].ZH)
		} else {
			zh = append(zh, id+"："+problems[id].ZH)
		}
		en = append(en, label+": "+problems[id].EN)
	}
	fe := Errorf(CodeInvalid, "form_invalid", map[string]any{"detail": strings.Join(en, "; ")})
	fe.Fields = problems
	fe.Args["detail_zh"] = strings.Join(zh, "；")
	return nil, fe
}

// decodeForm reads an instance's stored form back into canonical values.
func decodeForm(def *flowdef.Definition, raw json.RawMessage, now time.Time) (flowdef.Values, error) {
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("decode form: %w", err)
		}
	}
	vals := flowdef.Values{}
	for k, v := range m {
		f := def.Field(k)
		if f == nil || v == nil {
			continue
		}
		nv, err := flowdef.Normalize(f, v, now)
		if err != nil {
			return nil, fmt.Errorf("decode form field %s: %w", k, err)
		}
		vals[k] = nv
	}
	return vals, nil
}
