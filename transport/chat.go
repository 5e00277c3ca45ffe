package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/chat"
)

// ChatService is what the chat module calls: the methods of the chat
// service behind the /matches endpoints.
type ChatService interface {
	// Matches returns a page of userID's live matches, newest activity
	// first; limit 0 is the service's default.
	Matches(ctx context.Context, userID, cursor string, limit int) (chat.MatchPage, error)
	// Messages returns a page of a match's messages for its participant
	// userID, before or after a cursor; limit 0 is the service's default.
	Messages(ctx context.Context, userID, matchID, before, after string, limit int) (chat.MessagePage, error)
	// Send posts text to a match as userID; clientMessageID is "" when
	// the client gave none.
	Send(ctx context.Context, userID, matchID, text, clientMessageID string) (chat.Message, error)
	// Unmatch removes the match for both participants.
	Unmatch(ctx context.Context, userID, matchID string) error
}

// ChatConfig configures ChatModule.
type ChatConfig struct {
	// Service serves the matches and their messages. Required; the chat
	// service.
	Service ChatService
	// Authenticator checks the access tokens of the endpoints and of the
	// /chat namespace. Required; the accounts' *auth.Service.
	Authenticator Authenticator
}

// ChatModule serves the chat of matched users, all for a signed-in user:
// GET /matches?cursor=&limit= (limit 1 to chat.MaxMatchLimit), GET
// /matches/{id}/messages?limit=&before=&after= (limit 1 to
// chat.MaxMessageLimit), POST /matches/{id}/messages {"text",
// "clientMessageId"?} (201 with the Message) and DELETE /matches/{id}
// ({"status":"removed"}); and the /chat namespace (chat.Namespace), whose
// sockets need an access token and get the events the service publishes
// (message:new, match:removed) through the Broker.
func ChatModule(cfg ChatConfig) Module { return &chatModule{cfg: cfg} }

type chatModule struct {
	cfg ChatConfig
}

func (m *chatModule) Register(r *Registrar) error {
	if m.cfg.Service == nil {
		return errors.New("transport: ChatConfig.Service is required")
	}
	if m.cfg.Authenticator == nil {
		return errors.New("transport: ChatConfig.Authenticator is required")
	}
	withUser := func(h UserHandler) HandlerFunc { return r.WithUser(m.cfg.Authenticator, h) }
	for _, rt := range []Route{
		{Method: "GET", Path: "/matches", Handler: withUser(m.matches)},
		{Method: "GET", Path: "/matches/{id}/messages", Handler: withUser(m.messages)},
		{Method: "POST", Path: "/matches/{id}/messages", Handler: withUser(m.send)},
		{Method: "DELETE", Path: "/matches/{id}", Handler: withUser(m.unmatch)},
	} {
		if err := r.Handle(rt); err != nil {
			return err
		}
	}
	r.UserNamespace(chat.Namespace, m.cfg.Authenticator, nil)
	return nil
}

// queryLimit reads the optional query parameter limit: 0 when absent,
// else a whole number from 1 to most.
func queryLimit(r *http.Request, most int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, ErrInvalidQuery.WithMessage("limit must be a whole number from 1 to %d", most)
	}
	return n, nil
}

// GET /matches?cursor=&limit= → MatchPage
func (m *chatModule) matches(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	limit, err := queryLimit(r, chat.MaxMatchLimit)
	if err != nil {
		return err
	}
	page, err := m.cfg.Service.Matches(r.Context(), p.UserID, r.URL.Query().Get("cursor"), limit)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, page)
	return nil
}

// GET /matches/{id}/messages?limit=&before=&after= → MessagePage
func (m *chatModule) messages(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	limit, err := queryLimit(r, chat.MaxMessageLimit)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page, err := m.cfg.Service.Messages(r.Context(), p.UserID, r.PathValue("id"), q.Get("before"), q.Get("after"), limit)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, page)
	return nil
}

// POST /matches/{id}/messages {"text", "clientMessageId"?} → 201 Message
func (m *chatModule) send(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req struct {
		Text            json.RawMessage `json:"text"`
		ClientMessageID json.RawMessage `json:"clientMessageId"`
	}
	if err := DecodeBody(w, r, &req); err != nil {
		return err
	}
	text, ok := jsonString(req.Text)
	if !ok {
		return chat.ErrInvalidMessage.WithMessage("text must be a string")
	}
	var clientID string
	if raw := bytes.TrimSpace(req.ClientMessageID); len(raw) > 0 && string(raw) != "null" {
		if clientID, ok = jsonString(raw); !ok || clientID == "" {
			return chat.ErrInvalidMessage.WithMessage("clientMessageId must be a non-empty string when present")
		}
	}
	msg, err := m.cfg.Service.Send(r.Context(), p.UserID, r.PathValue("id"), text, clientID)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusCreated, msg)
	return nil
}

// DELETE /matches/{id} → {"status":"removed"}
func (m *chatModule) unmatch(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := m.cfg.Service.Unmatch(r.Context(), p.UserID, r.PathValue("id")); err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, map[string]string{"status": "removed"})
	return nil
}

// jsonString decodes raw when it is a JSON string.
func jsonString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}
