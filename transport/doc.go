// Package transport serves the features of rendezvous over HTTP: every
// REST endpoint, and the Socket.IO endpoint with the /rooms namespace and
// the access-token check of the dating product's namespaces.
//
// A Transport is mounted on any *http.ServeMux (Go 1.22 method patterns)
// under a configurable prefix:
//
//	t, err := transport.New(transport.Config{
//		Modules: []transport.Module{
//			transport.RoomsModule(transport.RoomsConfig{Service: roomsSvc}),
//			transport.AccountsModule(transport.AccountsConfig{Service: accounts}),
//		},
//		Broker: broker,
//	})
//	…
//	t.Mount(mux) // or http.ListenAndServe(addr, t.Handler())
//
// Each feature is a Module: in New it registers its REST routes (Route)
// and Socket.IO namespaces through a Registrar, which also hands it the
// core's helpers (error writing, the client IP, the per-user socket cap,
// the logger). The core names no feature; a host application adds its
// own Module the same way (see the module example). Modules depend on
// small interfaces: RoomsService for the rooms, Authenticator for the
// routes and namespaces that need a signed-in user.
//
// The dating product's core loop is three modules on interfaces of their
// own, so that each is served and tested without the others' stores.
// QueueModule (QueueService) serves POST /queue/join, DELETE /queue/leave,
// GET /queue/status and the /queue namespace, where each connected socket
// is reported to the service, refreshed every PresenceTTL/3 and reported
// gone once at its disconnect; a Notice of a removal made in the user's
// absence reaches the socket that connects as queue:left. SessionModule
// (SessionService) serves GET /sessions/{id}, POST /sessions/{id}/end and
// the /video namespace, where a socket that connects during a live
// session gets session:start again. OptinModule (ChoiceService) serves
// POST /sessions/{id}/choice; its outcome events go to /video. QueueConfig
// and SessionConfig take an optional Gate, asked at connect after the
// token check: a user it refuses (moderation's USER_BANNED, say) gets a
// CONNECT_ERROR before the services hear of the socket.
//
// ChatModule (ChatService) serves the chat of matched users: GET /matches,
// GET and POST /matches/{id}/messages, DELETE /matches/{id}, and the /chat
// namespace, whose sockets get message:new and match:removed.
// ModerationModule (ModerationService) serves the moderation webhook, POST
// /webhooks/hive, and, only when ModerationConfig.AdminToken is set, the
// operator routes under /moderation, which need that token as a bearer
// (ADMIN_TOKEN_INVALID otherwise).
//
// Errors reach clients in one shape. REST bodies keep the NestJS shape plus
// a stable code, {"statusCode":404,"error":"Not Found","message":"room not
// found","code":"ROOM_NOT_FOUND"}, with the status taken from the error's
// Kind (HTTPStatus holds the one table). Socket.IO connections that are
// refused get a CONNECT_ERROR {"message", "data": {"code"}}. The Details
// of an error (rendezvous.Error.Details, such as USER_BANNED's "until")
// are added beside the code in both, never replacing a standard field;
// an internal error's are not shown. Failed events
// get error:room {code, message} and, when the client asked for one, an
// acknowledgement {"ok": false, "error": {code, message}}. Unexpected
// errors answer a generic UNKNOWN_ERROR while the details go to the log.
//
// Real-time events published by the services through the Broker reach the
// sockets of every instance: Start subscribes this instance, and each event
// is emitted to the local sockets that joined its target. Delivery is fair
// between targets: events are queued per target and a few workers serve
// the targets round-robin, one event per turn, so a flooded room never
// delays another room's events by more than a turn; each target's events
// keep their order.
//
// A socket of /rooms is authorized in its connecting step (token,
// membership, the socket cap) and gets room:state; its presence is written
// only once it is connected (rooms.Service.SocketConnected, which
// publishes user:connected), so a transport that dies mid-connect leaves
// nothing behind. The connecting step makes one store call
// (rooms.Service.Admit: token, membership and room:state) and the
// connected one another (the presence write, which also answers the
// host). The instance refreshes the presence of all its connected
// sockets every PresenceTTL/3 with one timer, in batches of up to 1,024
// sockets per store round trip (rooms.Service.RefreshAll), rather than a
// timer and a round trip per socket (a room found gone: room:closed
// EXPIRED if it expired, through rooms.Service.RoomGone, else the
// disconnect its closer asked for; a user who is no longer a member: a
// disconnect), and each
// instance sweeps the rooms it has sockets in every PresenceTTL/2, so the
// members of a crashed instance are reported user:disconnected, once. A
// host application's own handlers on /rooms read the socket's room and
// user with RoomSocket.
//
// Abuse limits, all per instance: at most Config.MaxSocketsPerUser sockets
// per user and namespace (TOO_MANY_SOCKETS), Config.ConnectRate new
// Engine.IO sessions per second per client IP (429 RATE_LIMITED), the
// per-IP REST rate limit (Config.ThrottleLimit, shared through the
// Limiter), and strict JSON bodies (exact field names, no duplicate keys,
// valid UTF-8). Behind a proxy, Config.TrustProxy and
// Config.TrustedProxies decide which X-Forwarded-For entry is the client.
package transport
