-- nnplug: a new Ardour session with one stereo audio track, "nnplug", holding the plugin.
-- Run by nnplug.hosts.ardour through ardour7-lua:  ardour7-lua THIS DIR NAME RATE PLUGIN_ID FORMAT
-- PLUGIN_ID: the VST3 class ID (FORMAT "VST3", the default) or the LV2 URI (FORMAT "LV2").
--
-- The track has two inputs and two outputs and goes to the master bus, as a new stereo
-- track does in Ardour. Its panner is bypassed: with two inputs on two outputs Ardour's
-- default panner is the equal-power stereo panner, and no pan law belongs on the path under
-- test. Faders stay at 0 dB (a gain of exactly 1).
local dir, name, rate, uid, format = arg[1], arg[2], tonumber(arg[3]), arg[4] or "", arg[5] or "VST3"

local backend = AudioEngine:set_backend("None (Dummy)", "", "")
assert(backend, "nnplug: Ardour's None (Dummy) audio backend is not available")
backend:set_device_name("Silence")   -- no sound card: the backend's inputs are silent
backend:set_sample_rate(rate)

local session = create_session(dir, name, rate)
assert(session, "nnplug: Ardour could not create the session " .. dir)

local tracks = Session:new_audio_track(2, 2, nil, 1, "nnplug", ARDOUR.PresentationInfo.max_order,
                                       ARDOUR.TrackMode.Normal, false)
assert(tracks:size() == 1, "nnplug: Ardour could not create the track")
local track = tracks:front()
track:panner_shell():set_bypassed(true)

-- nnplug, first in the track's chain (pre-fader), at its defaults. It is added here, in the
-- session every render copies, and not just before an export: right after a change to a
-- track's processors Ardour re-aligns the track and refills its disk buffers, and an export
-- started then read silence from the track (measured, and not every time).
if uid ~= "" then
  local kind = assert(ARDOUR.PluginType[format], "nnplug: no Ardour plugin type " .. format)
  local plugin = ARDOUR.LuaAPI.new_plugin(Session, uid, kind, "")
  assert(not plugin:isnil(), "nnplug: Ardour does not know the " .. format .. " plugin " .. uid
         .. " (VST3: not scanned? LV2: not on LV2_PATH?)")
  assert(track:add_processor_by_index(plugin, 0, nil, true) == 0, "nnplug: Ardour could not add the plugin")
end

Session:save_state("", false, false, false, false, false)
print("NNPLUG-SESSION rate=" .. Session:nominal_sample_rate())
close_session()
