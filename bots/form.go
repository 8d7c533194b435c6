package bots

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// formWords, as the first word after a flow's command ("/leave form
// type=annual"), ask for the whole request as one form card instead of a
// question at a time.
var formWords = []string{"form", "表单", "填表"}

// Actions of the form card.
const (
	actionForm       = "form"        // the confirm card's Edit: show the form card
	actionFormSubmit = "form_submit" // the form card's Submit: check, then file
)

// inputKind is the input widget of a field type.
func inputKind(t flowdef.FieldType) InputKind {
	switch t {
	case flowdef.FieldTextarea:
		return InputTextarea
	case flowdef.FieldNumber:
		return InputNumber
	case flowdef.FieldMoney:
		return InputMoney
	case flowdef.FieldDate:
		return InputDate
	case flowdef.FieldDateRange:
		return InputDateRange
	case flowdef.FieldSelect:
		return InputSelect
	case flowdef.FieldMultiSelect:
		return InputMultiSelect
	case flowdef.FieldUser:
		return InputUser
	case flowdef.FieldBool:
		return InputBool
	case flowdef.FieldFile:
		return InputFile
	}
	return InputText
}

// inputText is a canonical value in the format its input sends back
// (see InputKind), so that an untouched input submits the same value.
func inputText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case flowdef.Money:
		neg := x.Cents < 0
		c := x.Cents
		if neg {
			c = -c
		}
		s := strconv.FormatInt(c/100, 10) + "." + strconv.FormatInt(c%100/10, 10) + strconv.FormatInt(c%10, 10)
		if neg {
			s = "-" + s
		}
		return s
	case flowdef.DateRange:
		return x.From + "~" + x.To
	case []string:
		return strings.Join(x, ",")
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// formCard is the request of a conversation as one card with an input of
// its native kind per field, pre-filled with the values known so far.
// typed, when set, holds what the user typed into a form that came back
// (kept as typed, right or wrong); problems says what is wrong with each
// field, shown next to it.
func (b *Bot) formCard(ctx context.Context, loc string, d *flowdef.Definition, st *convState, applicant string, typed, problems map[string]string) *Card {
	c := &Card{Title: T(loc, "form_title", map[string]any{"flow": d.Name.In(loc)}), Color: ColorBlue}
	if st.Instance > 0 {
		c.Title = T(loc, "amend_title", map[string]any{"flow": d.Name.In(loc), "number": st.Number})
	}
	vals := normalize(d, st.Values, b.now())
	for i := range d.Fields {
		f := &d.Fields[i]
		in := Input{
			Name: f.ID, Label: f.Label.In(loc), Kind: inputKind(f.Type),
			Placeholder: f.Help.In(loc), Required: f.Required, Error: problems[f.ID],
		}
		if f.Type == flowdef.FieldFile {
			in.Placeholder = T(loc, "form_file", nil)
		}
		switch f.Type {
		case flowdef.FieldText, flowdef.FieldTextarea, flowdef.FieldSelect, flowdef.FieldMultiSelect, flowdef.FieldBool:
			// The widget says it all; no conversation example.
		default:
			if in.Placeholder == "" {
				in.Placeholder = example(loc, f)
			}
		}
		for _, o := range f.Options {
			opt := Option{Value: o.Value, Label: o.Label.In(loc)}
			if d.Balance != nil && f.ID == d.Balance.TypeField {
				// The balance of each leave type, for a picker that shows
				// the chosen one's as it changes.
				with := maps.Clone(vals)
				with[f.ID] = o.Value
				opt.Note = b.balanceLine(ctx, loc, d, applicant, with)
			}
			in.Options = append(in.Options, opt)
		}
		if t, ok := typed[f.ID]; ok {
			in.Value = t
		} else if file, ok := vals[f.ID].(flowdef.File); ok {
			in.Value = file.Name
		} else if v, ok := vals[f.ID]; ok {
			in.Value = inputText(v)
		} else if f.Default != nil {
			in.Value = inputText(f.Default)
		}
		c.Inputs = append(c.Inputs, in)
	}
	if line := b.formBalance(ctx, loc, d, applicant, vals); line != "" {
		c.Fields = append(c.Fields, Field{Label: T(loc, "f_balance", nil), Value: line})
	}
	if len(problems) > 0 {
		c.Color = ColorOrange
		c.Markdown = T(loc, "form_fix", map[string]any{"n": len(problems)})
	} else {
		c.Markdown = T(loc, "form_hint", nil)
	}
	submit := "btn_submit"
	if st.Instance > 0 {
		submit = "btn_resubmit"
	}
	c.Buttons = []Button{
		{Label: T(loc, submit, nil), Action: actionFormSubmit, Value: map[string]string{"conv": st.Token, "v": st.digest()}, Style: StylePrimary},
		{Label: T(loc, "btn_cancel", nil), Action: "cancel", Value: map[string]string{"conv": st.Token}, Style: StyleDefault},
	}
	return c
}

// startForm answers "/flow form ...": the conversation is opened with the
// inline values and shown as one form card.
func (b *Bot) startForm(ctx context.Context, ev Event, u *flows.User, d *flowdef.Definition, args map[string]string) (Reply, error) {
	loc := locale(u)
	vals, problems, err := b.inlineValues(ctx, loc, d, args)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	typed := map[string]string{}
	for id := range problems {
		for k, v := range args {
			if f := fieldByName(d, k); f != nil && f.ID == id {
				typed[id] = v
			}
		}
	}
	st := &convState{Flow: d.ID, Values: vals, Token: eventToken(ev), Form: true}
	if b.cfg.State == nil {
		return textReply(false, T(loc, "state_down", nil)), nil
	}
	if err := b.carryEvents(ctx, ev, st); err != nil {
		return b.stateDown(ctx, loc, false, "start form", err)
	}
	if err := b.saveConv(ctx, ev, st); err != nil {
		return b.stateDown(ctx, loc, false, "start form", err)
	}
	return Reply{Messages: []Message{{Card: b.formCard(ctx, loc, d, st, u.ID, typed, problems)}}}, nil
}

// formClick answers the confirm card's Edit button: the card becomes the
// form card, pre-filled with what it showed.
func (b *Bot) formClick(ctx context.Context, ev Event, u *flows.User, token string) (Reply, error) {
	loc := locale(u)
	st, d, rep, err := b.clickedConv(ctx, ev, u, token)
	if st == nil {
		return rep, err
	}
	if !st.Form {
		st.Form = true
		if err := b.saveConv(ctx, ev, st); err != nil {
			return b.stateDown(ctx, loc, true, "save conversation as a form", err)
		}
	}
	return Reply{Card: b.formCard(ctx, loc, d, st, u.ID, nil, nil)}, nil
}

// clickedConv loads the conversation a form or confirm card belongs to;
// when it is gone or another one, st is nil and rep says so (with err
// when the click failed: the state store did not answer).
func (b *Bot) clickedConv(ctx context.Context, ev Event, u *flows.User, token string) (st *convState, d *flowdef.Definition, rep Reply, err error) {
	loc := locale(u)
	if b.cfg.State == nil {
		return nil, nil, Reply{Toast: T(loc, "state_down", nil), ToastKind: ToastError}, nil
	}
	st, err = b.loadConv(ctx, ev)
	if err != nil {
		rep, err = b.stateDown(ctx, loc, true, "load conversation of a form", err)
		return nil, nil, rep, err
	}
	if st == nil || st.Token != token {
		return nil, nil, Reply{Toast: T(loc, "conv_stale", nil), ToastKind: ToastWarning}, nil
	}
	if d, err = b.convDef(ctx, st); err != nil {
		b.log.WarnContext(ctx, "definition of a form", "err", err)
		return nil, nil, Reply{Toast: T(loc, "internal_error", nil), ToastKind: ToastError}, nil
	}
	return st, d, Reply{}, nil
}

// formSubmit checks every input of a form card against its field's rules
// (required, format, min/max, pattern, not in the past, range order, the
// person exists). With a problem, the form comes back showing each one
// next to its field, typed values kept, and nothing is filed. Otherwise
// the values replace the conversation's and the request is filed.
func (b *Bot) formSubmit(ctx context.Context, ev Event, u *flows.User, a *Action) (Reply, error) {
	loc := locale(u)
	st, d, rep, err := b.clickedConv(ctx, ev, u, a.Value["conv"])
	if st == nil {
		return rep, err
	}
	if a.Value["v"] != st.digest() {
		// The conversation changed after this card was drawn (by text, or
		// on a newer card): this card's inputs are not what it holds.
		msg := T(loc, "confirm_outdated", nil)
		return Reply{Toast: msg, ToastKind: ToastWarning, Card: &Card{Title: d.Name.In(loc), Color: ColorGrey, Note: msg}}, nil
	}
	vals, typed, problems, err := b.formValues(ctx, loc, d, st, a.Inputs)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	if len(problems) > 0 {
		return Reply{Toast: T(loc, "form_fix", map[string]any{"n": len(problems)}), ToastKind: ToastWarning, Card: b.formCard(ctx, loc, d, st, u.ID, typed, problems)}, nil
	}
	st.Values, st.Pending, st.Choices = vals, nil, nil
	if err := b.saveConv(ctx, ev, st); err != nil {
		return b.stateDown(ctx, loc, true, "save form", err)
	}
	return b.submitConv(ctx, ev, u, st.Token, st.digest(), true)
}

// formValues parses the inputs of a form card, one per field of d. A field
// with no input on the card keeps no value. problems is keyed by field id.
//
// A file field's input only shows the file's name: its value is the file
// the conversation holds (sent in the chat), whatever the input says.
func (b *Bot) formValues(ctx context.Context, loc string, d *flowdef.Definition, st *convState, inputs map[string]string) (vals map[string]any, typed, problems map[string]string, err error) {
	vals, typed, problems = map[string]any{}, map[string]string{}, map[string]string{}
	for i := range d.Fields {
		f := &d.Fields[i]
		if f.Type == flowdef.FieldFile {
			if v, ok := st.Values[f.ID]; ok && v != nil {
				vals[f.ID] = v
			} else if f.Required {
				problems[f.ID] = T(loc, "form_file", nil)
			}
			continue
		}
		text := strings.TrimSpace(inputs[f.ID])
		typed[f.ID] = inputs[f.ID]
		if text == "" || (f.Type == flowdef.FieldDateRange && strings.Trim(text, "~ ") == "") {
			if f.Required && f.Default == nil {
				problems[f.ID] = T(loc, "form_required", nil)
			}
			continue
		}
		if f.Type == flowdef.FieldDateRange && (strings.HasPrefix(text, "~") || strings.HasSuffix(text, "~")) {
			problems[f.ID] = T(loc, "form_range_half", nil)
			continue
		}
		v, problem, perr := b.parseAnswer(ctx, loc, f, text)
		if perr != nil {
			return nil, nil, nil, perr
		}
		if problem != "" {
			problems[f.ID] = problem
			continue
		}
		vals[f.ID] = v
	}
	if len(problems) == 0 {
		// The whole form as the engine will check it (defaults, rules
		// across fields), so that Submit refuses nothing the form passed.
		if _, bad := d.CheckForm(vals, b.now()); len(bad) > 0 {
			for id, t := range bad {
				problems[id] = t.In(loc)
			}
		}
	}
	return vals, typed, problems, nil
}

// formWord reports whether word asks for the form card.
func formWord(word string) bool { return slices.Contains(formWords, strings.ToLower(word)) }
