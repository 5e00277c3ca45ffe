package transport

import (
	"context"
	"errors"
	"sync"
	"time"

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
	Admit(ctx context.Context, token string) (rooms.Admission, error)
	State(ctx context.Context, code string) (rooms.Snapshot, error)
	SocketConnected(ctx context.Context, code, userID, socketID string) (rooms.User, error)
	Refresh(ctx context.Context, code, userID, socketID string) error
	RefreshAll(ctx context.Context, entries []rooms.PresenceEntry) []error
	RoomGone(ctx context.Context, code string) (expired bool, err error)
	SocketDisconnected(ctx context.Context, code, userID, socketID string) error
	Sweep(ctx context.Context, code string) error
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
	// PresenceTTL is the service's rooms.Config.PresenceTTL: the instance
	// refreshes the presence of all its sockets every PresenceTTL/3 (in
	// batches, rooms.Service.RefreshAll) and sweeps the rooms it has
	// sockets in every PresenceTTL/2. Default: the
	// Service's own (its Config method, as *rooms.Service has), else
	// rooms.DefaultPresenceTTL.
	PresenceTTL time.Duration
}

// RoomsModule serves the rooms endpoints (POST /rooms, GET /rooms/{code},
// POST /rooms/{code}/join and /rejoin) and the /rooms namespace.
func RoomsModule(cfg RoomsConfig) Module {
	return &roomsModule{svc: cfg.Service, ttl: cfg.PresenceTTL, local: make(map[string]int), present: make(map[*roomSession]struct{})}
}

type roomsModule struct {
	svc RoomsService
	reg *Registrar
	ttl time.Duration // presence TTL

	mu      sync.Mutex
	local   map[string]int            // room code → sockets of this instance in it
	sweep   *time.Timer               // while local is not empty
	present map[*roomSession]struct{} // connected sockets, refreshed together
	refresh *time.Timer               // while present is not empty
}

func (m *roomsModule) Register(r *Registrar) error {
	if m.svc == nil {
		return errors.New("transport: RoomsConfig.Service is required")
	}
	m.reg = r
	if m.ttl == 0 {
		m.ttl = rooms.DefaultPresenceTTL
		if c, ok := m.svc.(interface{ Config() rooms.Config }); ok && c.Config().PresenceTTL > 0 {
			m.ttl = c.Config().PresenceTTL
		}
	}
	if m.ttl < time.Second {
		return errors.New("transport: RoomsConfig.PresenceTTL must be at least one second")
	}
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
