package teams

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/template"
)

//go:embed manifest/manifest.json.tmpl
var manifestFS embed.FS

// ManifestParams fill the Teams app manifest template.
type ManifestParams struct {
	AppID     string // the bot's Microsoft App ID (also the Teams app id)
	Domain    string // the host serving /api/messages, e.g. flowbot.example.com
	Name      string // short name shown in Teams (default "flowbot")
	Developer string // publisher name (default "flowbot")
	Version   string // app version (default "1.0.0")
}

// Manifest renders manifest.json for sideloading (zip it with color.png
// 192x192 and outline.png 32x32).
func Manifest(p ManifestParams) ([]byte, error) {
	if p.AppID == "" || p.Domain == "" {
		return nil, errors.New("teams: rendering manifest: app id and domain are required")
	}
	if strings.ContainsAny(p.Domain, "/:\" ") {
		return nil, fmt.Errorf("teams: rendering manifest: domain %q must be a bare host name", p.Domain)
	}
	if p.Name == "" {
		p.Name = "flowbot"
	}
	if p.Developer == "" {
		p.Developer = "flowbot"
	}
	if p.Version == "" {
		p.Version = "1.0.0"
	}
	for _, s := range []*string{&p.AppID, &p.Name, &p.Developer, &p.Version} {
		b, _ := json.Marshal(*s)
		*s = string(b[1 : len(b)-1]) // JSON-escaped, without the quotes
	}
	t, err := template.ParseFS(manifestFS, "manifest/manifest.json.tmpl")
	if err != nil {
		return nil, fmt.Errorf("teams: rendering manifest: %w", err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		return nil, fmt.Errorf("teams: rendering manifest: %w", err)
	}
	if !json.Valid(buf.Bytes()) {
		return nil, errors.New("teams: rendering manifest: invalid JSON")
	}
	return buf.Bytes(), nil
}
