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
//   - display names follow the one display-name rule of the module (also
//     that of profiles): trimmed, counted in characters, valid UTF-8, no
//     control, invisible, private-use or unassigned characters, joiners
//     only inside emoji and script sequences, at least one visible
//     character.
package rooms
