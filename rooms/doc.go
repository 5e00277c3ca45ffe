// Package rooms implements Jackbox-style lobbies: short room codes, a host
// with controls (lock, kick, transfer, close), reconnect after a page
// reload, and one connection token per member whose validity is governed by
// the room's state in the Store.
//
// A Service does the work; a Store (store/memory, store/redis) keeps the
// state and makes every multi-step rule atomic: capacity on join, host
// checks, host succession. Real-time events go out through a
// rendezvous.Notifier to the targets TargetRoom(code) (every member) and
// TargetUser(id) (one member's sockets) of the Socket.IO namespace
// Namespace ("/rooms"); package transport delivers them and serves the REST
// API over the Service.
//
// Rules beyond the original specification:
//   - a token is accepted at connect and at rejoin only while its user is a
//     member of an open room;
//   - when the host leaves, the longest-present member becomes host (or the
//     room closes, with Config.CloseOnHostLeave);
//   - every key of a room shares the room's TTL, refreshed by each write;
//   - with Config.Scheduler, a room whose TTL runs out is announced: its
//     durable job ExpireJobKey(code), scheduled at create for create+TTL,
//     runs HandleExpiry, which reschedules itself while writes keep the
//     room alive and otherwise deletes what is left of the room and sends
//     room:closed (reason EXPIRED, with disconnect) to its sockets. A room
//     closed by its host, or deleted by the last leave, never also gets
//     EXPIRED: closing cancels the job, and the store remembers the room
//     as closed (Store.ExpireRoom) until ClosedGrace after its TTL would
//     have run out, for a job that was already running or not cancelled;
//   - presence is per socket, with a TTL: SocketConnected registers a
//     socket's entry (Store.Touch), live for Config.PresenceTTL unless
//     Refresh renews it; SocketDisconnected removes it; Sweep removes the
//     entries of sockets whose instance crashed or stalled and announces
//     user:disconnected once per user whose last socket they were, however
//     many instances sweep. A member is connected (isConnected) while it
//     has a live entry. Presence does not renew the room's TTL;
//   - display names follow the one display-name rule of the module (also
//     that of profiles): trimmed, counted in characters, valid UTF-8, no
//     control, invisible, private-use or unassigned characters, joiners
//     only inside emoji and script sequences, at least one visible
//     character.
package rooms
