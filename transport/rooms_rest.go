package transport

import (
	"net/http"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/rooms"
)

// POST /rooms → 201 Ticket
func (m *roomsModule) createRoom(w http.ResponseWriter, r *http.Request) error {
	var req rooms.CreateRequest
	if err := DecodeBody(w, r, &req); err != nil {
		return err
	}
	tk, err := m.svc.Create(r.Context(), req)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusCreated, tk)
	return nil
}

// GET /rooms/{code} → 200 Room
func (m *roomsModule) getRoom(w http.ResponseWriter, r *http.Request) error {
	room, err := m.svc.Get(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, room)
	return nil
}

// POST /rooms/{code}/join → 200 Ticket
func (m *roomsModule) joinRoom(w http.ResponseWriter, r *http.Request) error {
	var req rooms.JoinRequest
	if err := DecodeBody(w, r, &req); err != nil {
		return err
	}
	tk, err := m.svc.Join(r.Context(), r.PathValue("code"), req)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, tk)
	return nil
}

// POST /rooms/{code}/rejoin with Authorization: Bearer <token> → 200 Ticket
func (m *roomsModule) rejoinRoom(w http.ResponseWriter, r *http.Request) error {
	var req struct{}
	if err := DecodeBody(w, r, &req); err != nil {
		return err
	}
	tok := bearer(r)
	if tok == "" {
		return auth.ErrTokenMissing
	}
	tk, err := m.svc.Rejoin(r.Context(), r.PathValue("code"), tok)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, tk)
	return nil
}
