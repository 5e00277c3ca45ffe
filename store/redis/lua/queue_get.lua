-- Reads an entry and its position in one step.
--
-- ARGV[1]  userId
--
-- Returns {'OK', entry} or {'NONE'}.

local e = entry(ARGV[1])
if not e then
    return {'NONE'}
end
return {'OK', e}
