-- Deletes a room and all its keys on behalf of the host.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  hostId, the caller
-- ARGV[2]  how long the room is remembered as closed after its TTL would
--          have run out, in milliseconds
--
-- Returns {'OK'} or {'ROOM_NOT_FOUND'}, {'NOT_HOST'}.

if redis.call('exists', KEYS[1]) == 0 then
    return {'ROOM_NOT_FOUND'}
end
if not is_host(KEYS[1], ARGV[1]) then
    return {'NOT_HOST'}
end

close_room(KEYS[1], KEYS[2], ARGV[2])
return {'OK'}
