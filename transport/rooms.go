package transport

import (
	"context"
	"errors"

	"github.com/rendezvous-go/rendezvous/rooms"
)

// RoomsService is what the rooms module calls: the methods of
// *rooms.Service behind the rooms endpoints and the /rooms namespace.
type RoomsService interface {
	Create(ctx context.Context, req rooms.CreateRequest) (rooms.Ticket, error)
	Get(ctx context.Context, code string) (rooms.Room, error)
	Join(ctx context.Context, code string, req rooms.JoinRequest) (rooms.Ticket, error)
	Rejoin(ctx context.Context, code, token string) (rooms.Ticket, error)
	Authenticate(ctx context.Context, token string) (code, userID string, err error)
	State(ctx context.Context, code string) (rooms.Snapshot, error)
	Connected(ctx context.Context, code, userID string) (rooms.User, error)
	Disconnected(ctx context.Context, code, userID string) error
	Leave(ctx context.Context, code, userID string) error
	Kick(ctx context.Context, code, hostID, userID string) error
	ToggleLock(ctx context.Context, code, hostID string) (bool, error)
	TransferHost(ctx context.Context, code, hostID, newHostID string) error
	Close(ctx context.Context, code, hostID string) error
}

// RoomsConfig configures RoomsModule.
type RoomsConfig struct {
	// Service serves the rooms. Required; a *rooms.Service.
	Service RoomsService
}

// RoomsModule serves the rooms endpoints (POST /rooms, GET /rooms/{code},
// POST /rooms/{code}/join and /rejoin) and the /rooms namespace.
func RoomsModule(cfg RoomsConfig) Module { return &roomsModule{svc: cfg.Service} }

type roomsModule struct {
	svc RoomsService
	reg *Registrar
}

func (m *roomsModule) Register(r *Registrar) error {
	if m.svc == nil {
		return errors.New("transport: RoomsConfig.Service is required")
	}
	m.reg = r
	for _, rt := range []Route{
		{Method: "POST", Path: "/rooms", Handler: m.createRoom},
		{Method: "GET", Path: "/rooms/{code}", Handler: m.getRoom},
		{Method: "POST", Path: "/rooms/{code}/join", Handler: m.joinRoom},
		{Method: "POST", Path: "/rooms/{code}/rejoin", Handler: m.rejoinRoom},
	} {
		if err := r.Handle(rt); err != nil {
			return err
		}
	}
	m.mountNamespace(r.Of(rooms.Namespace))
	return nil
}
