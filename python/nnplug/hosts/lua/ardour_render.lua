-- nnplug: open a session made by ardour_new_session.lua (nnplug on its track), set the
-- plugin's parameters, save the session, export the session range offline (freewheel).
-- Run by nnplug.hosts.ardour:  ardour7-lua THIS SESSION_DIR NAME BLOCK EXPORT_DIR
-- with the rest in environment variables (strings from Python, parsed here):
--   NNPLUG_PARAMS       "index=normalized;..." parameter values, VST3-normalized (0..1); for the
--                       LV2 "URI=value;..." its properties (patch:writable), in their own units
--   NNPLUG_AUTOMATION   "index:sample=value,sample=value,..." one automation lane, played
--   NNPLUG_SAVE         "1": save the session (before the export: see there)
-- Lines starting "NNPLUG " are read back by Python.
local dir, name, block, export_dir = arg[1], arg[2], tonumber(arg[3]), arg[4]

-- Milestones go to a file as well as stdout: ardour7-lua (7.3) now and then aborts with a heap
-- error while it shuts down, after the work is done, and then stdout's buffer is lost.
local function milestone(word)
  print("NNPLUG " .. word)
  local f = assert(io.open(export_dir .. "/nnplug-progress.txt", "a"))
  f:write(word .. "\n")
  f:close()
end

local backend = AudioEngine:set_backend("None (Dummy)", "", "")
assert(backend, "nnplug: Ardour's None (Dummy) audio backend is not available")
backend:set_device_name("Silence")
backend:set_buffer_size(block)

assert(load_session(dir, name), "nnplug: Ardour could not load the session " .. dir)
local track = Session:route_by_name("nnplug")
assert(not track:isnil(), "nnplug: the session has no track named nnplug")

local plugin = track:nth_plugin(0)
assert(not plugin:isnil(), "nnplug: the session has no plugin on its track")

-- The LV2's parameters are no control ports but LV2 properties: Ardour gives each a property
-- control (AutomationType PluginPropertyAutomation, numbered by the property URI's URID in this
-- process, named "property-<URI>"). Lua has neither that enum value nor Ardour's URI map, so the
-- controls are found by name among the URIDs: PluginPropertyAutomation follows PluginAutomation
-- in Ardour's AutomationType (libs/ardour/ardour/types.h).
local properties = nil
local function property_controls()
  if properties == nil then
    properties = {}
    local auto = plugin:to_automatable()
    local kind = ARDOUR.AutomationType.PluginAutomation + 1
    for urid = 1, 4096 do
      local c = auto:automation_control(Evoral.Parameter(kind, 0, urid), false)
      if not c:isnil() then
        properties[string.gsub(c:name(), "^property%-", "")] = c
      end
    end
  end
  return properties
end

for key, value in string.gmatch(os.getenv("NNPLUG_PARAMS") or "", "([^;=]+)=([^;]+)") do
  if string.match(key, "^%d+$") then
    assert(ARDOUR.LuaAPI.set_processor_param(plugin, tonumber(key), tonumber(value)),
           "nnplug: Ardour refused parameter " .. key)
  else
    local c = property_controls()[key]
    assert(c ~= nil, "nnplug: Ardour shows no property control for " .. key)
    c:set_value(tonumber(value), PBD.GroupControlDisposition.NoGroup)
  end
end

local lane = os.getenv("NNPLUG_AUTOMATION") or ""
if lane ~= "" then
  local index, points = string.match(lane, "^(%d+):(.*)$")
  local _, cl, _ = ARDOUR.LuaAPI.plugin_automation(plugin, tonumber(index))
  assert(not cl:isnil(), "nnplug: no automation lane for parameter " .. index)
  for at, value in string.gmatch(points, "(%d+)=([^,]+)") do
    cl:add(Temporal.timepos_t(tonumber(at)), tonumber(value), false, false)
  end
  local control = plugin:to_automatable():automation_control(
    Evoral.Parameter(ARDOUR.AutomationType.PluginAutomation, 0, tonumber(index)), false)
  control:set_automation_state(ARDOUR.AutoState.Play)
end

-- The model loads while Ardour activates the plugin; a plugin that reports no latency after
-- ten seconds has failed (its status, read from the saved state, says why).
local waited = 0
while plugin:signal_latency() == 0 and waited < 10 do
  sleep(0.1)
  waited = waited + 0.1
end
-- Ardour applies a change to a track's processors (and the latency it brings) in its process
-- thread and refills the track's disk buffers after it; an export started before that reads
-- silence from the track (measured: every export started at once was all zeros). Let the
-- engine run some cycles first (Python also refuses an all-silent export of a non-silent input).
assert(ARDOUR.LuaAPI.wait_for_process_callback(64, 20000), "nnplug: Ardour's engine is not running")

milestone(string.format("block=%d rate=%d latency=%d track_latency=%d preroll=%s",
                    Session:get_block_size(), Session:nominal_sample_rate(), plugin:signal_latency(),
                    track:signal_latency(), tostring(ARDOUR.config():get_export_preroll())))

-- Saved before the export: ardour7-lua 7.3 corrupts its heap now and then in an export and
-- aborts later, mostly in the next save_state (measured with no plugin on the track at all:
-- 2 aborts in 12 exports, each after the export was written). The session saved here holds
-- the plugin's state as it plays the export (parameters set, model loaded).
if os.getenv("NNPLUG_SAVE") == "1" then
  Session:save_state("", false, false, false, false, false)
  milestone("saved")
end

local export = Session:simple_export()
export:set_folder(export_dir)
assert(export:set_preset("6e6e706c-7567-4000-8000-000000000002"), "nnplug: the export preset is missing")
assert(export:run_export(), "nnplug: Ardour's export failed")
milestone("exported")
close_session()
milestone("closed")
