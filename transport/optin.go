package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/optin"
)

// ChoiceService is what the optin module calls: the method of the optin
// service behind POST /sessions/{id}/choice.
type ChoiceService interface {
	// Choose records userID's choice ("MATCH" or "PASS", else
	// INVALID_CHOICE) for the ended session sessionID.
	Choose(ctx context.Context, userID, sessionID, choice string) (optin.Result, error)
}

// OptinConfig configures OptinModule.
type OptinConfig struct {
	// Service takes the choices. Required; the optin service.
	Service ChoiceService
	// Authenticator checks the access tokens of the endpoint. Required;
	// the accounts' *auth.Service.
	Authenticator Authenticator
}

// OptinModule serves the choice after a call: POST /sessions/{id}/choice
// {"choice": "MATCH" | "PASS"} for a signed-in participant, answering the
// optin.Result. It has no namespace of its own: the outcome events
// (match:mutual, match:non_mutual) are published to /video, which
// SessionModule serves.
func OptinModule(cfg OptinConfig) Module { return &optinModule{cfg: cfg} }

type optinModule struct {
	cfg OptinConfig
}

func (m *optinModule) Register(r *Registrar) error {
	if m.cfg.Service == nil {
		return errors.New("transport: OptinConfig.Service is required")
	}
	if m.cfg.Authenticator == nil {
		return errors.New("transport: OptinConfig.Authenticator is required")
	}
	return r.Handle(Route{Method: "POST", Path: "/sessions/{id}/choice", Handler: r.WithUser(m.cfg.Authenticator, m.choose)})
}

// POST /sessions/{id}/choice {"choice"} → Result
func (m *optinModule) choose(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req struct {
		Choice json.RawMessage `json:"choice"`
	}
	if err := DecodeBody(w, r, &req); err != nil {
		return err
	}
	var choice string
	if raw := bytes.TrimSpace(req.Choice); len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &choice) != nil {
		return optin.ErrInvalidChoice
	}
	res, err := m.cfg.Service.Choose(r.Context(), p.UserID, r.PathValue("id"), choice)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, res)
	return nil
}
