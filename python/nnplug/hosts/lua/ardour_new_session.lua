-- nnplug: a new Ardour session with one stereo audio track, "nnplug", for a render.
-- Run by nnplug.hosts.ardour through ardour7-lua:  ardour7-lua THIS DIR NAME RATE
--
-- The track has two inputs and two outputs and goes to the master bus, as a new stereo
-- track does in Ardour. Its panner is bypassed: with two inputs on two outputs Ardour's
-- default panner is the equal-power stereo panner, and no pan law belongs on the path under
-- test. Faders stay at 0 dB (a gain of exactly 1).
local dir, name, rate = arg[1], arg[2], tonumber(arg[3])

local backend = AudioEngine:set_backend("None (Dummy)", "", "")
assert(backend, "nnplug: Ardour's None (Dummy) audio backend is not available")
backend:set_device_name("Silence")   -- no sound card: the backend's inputs are silent
backend:set_sample_rate(rate)

local session = create_session(dir, name, rate)
assert(session, "nnplug: Ardour could not create the session " .. dir)

local tracks = Session:new_audio_track(2, 2, nil, 1, "nnplug", ARDOUR.PresentationInfo.max_order,
                                       ARDOUR.TrackMode.Normal, false)
assert(tracks:size() == 1, "nnplug: Ardour could not create the track")
tracks:front():panner_shell():set_bypassed(true)

Session:save_state("", false, false, false, false, false)
print("NNPLUG-SESSION rate=" .. Session:nominal_sample_rate())
close_session()
