package redis

import (
	"embed"

	goredis "github.com/redis/go-redis/v9"
)

//go:embed lua/*.lua
var luaFiles embed.FS

// The scripts, one per lua/*.lua file. Each room script is prefixed with
// lua/room_lib.lua, which holds the helpers that renew and delete a room's
// keys.
var (
	createScript       = roomScript("room_create.lua")
	joinScript         = roomScript("room_join.lua")
	leaveScript        = roomScript("room_leave.lua")
	kickScript         = roomScript("room_kick.lua")
	toggleLockScript   = roomScript("room_toggle_lock.lua")
	transferHostScript = roomScript("room_transfer_host.lua")
	closeScript        = roomScript("room_close.lua")
	memberScript       = roomScript("room_member.lua")
	membersScript      = roomScript("room_members.lua")

	countScript = goredis.NewScript(luaSource("ratelimit_count.lua"))
)

func roomScript(name string) *goredis.Script {
	return goredis.NewScript(luaSource("room_lib.lua") + "\n" + luaSource(name))
}

func luaSource(name string) string {
	b, err := luaFiles.ReadFile("lua/" + name)
	if err != nil {
		panic("redis: missing embedded script " + name)
	}
	return string(b)
}
