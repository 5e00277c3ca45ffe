package transport

import (
	"net/http"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/rooms"
)

func (t *Transport) roomRoutes() []route {
	return []route{
		{method: "POST", path: "/rooms", h: t.createRoom},
		{method: "GET", path: "/rooms/{code}", h: t.getRoom},
		{method: "POST", path: "/rooms/{code}/join", h: t.joinRoom},
		{method: "POST", path: "/rooms/{code}/rejoin", h: t.rejoinRoom},
	}
}

// POST /rooms → 201 Ticket
func (t *Transport) createRoom(w http.ResponseWriter, r *http.Request) error {
	var req rooms.CreateRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	tk, err := t.cfg.Rooms.Create(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tk)
	return nil
}

// GET /rooms/{code} → 200 Room
func (t *Transport) getRoom(w http.ResponseWriter, r *http.Request) error {
	room, err := t.cfg.Rooms.Get(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, room)
	return nil
}

// POST /rooms/{code}/join → 200 Ticket
func (t *Transport) joinRoom(w http.ResponseWriter, r *http.Request) error {
	var req rooms.JoinRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	tk, err := t.cfg.Rooms.Join(r.Context(), r.PathValue("code"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tk)
	return nil
}

// POST /rooms/{code}/rejoin with Authorization: Bearer <token> → 200 Ticket
func (t *Transport) rejoinRoom(w http.ResponseWriter, r *http.Request) error {
	var req struct{}
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	tok := bearer(r)
	if tok == "" {
		return auth.ErrTokenMissing
	}
	tk, err := t.cfg.Rooms.Rejoin(r.Context(), r.PathValue("code"), tok)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tk)
	return nil
}
