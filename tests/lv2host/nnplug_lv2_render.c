/* nnplug_lv2_render: a minimal offline LV2 host on lilv, for the tests (python/nnplug/hosts/lv2.py).
 *
 *   nnplug_lv2_render URI RATE BLOCK CHANNELS FRAMES IN.f32 OUT.f32
 *
 * Finds the plugin the way every lilv host does (lilv_world_load_all: LV2_PATH, else the
 * per-user and system folders), instantiates it at RATE, renders FRAMES frames of IN.f32 (planar
 * float32, CHANNELS rows) in blocks of BLOCK frames (the last one shorter) and writes the audio
 * outputs to OUT.f32 (planar float32). Prints "latency N" (the plugin's lv2:reportsLatency port
 * after the render) and "outputs N" on stdout.
 *
 * Why not Debian's lv2apply or lv2file: both instantiate with no features at all and run one
 * frame (lv2apply) per call, and lv2apply refuses atom ports. JUCE's LV2 requires urid:map,
 * options and bufsz:boundedBlockLength and has atom control ports, so those tools cannot load
 * any JUCE plugin. This host gives what an ordinary DAW gives and nothing else.
 *
 * The freeWheeling port is set to 1: an offline render (JUCE: isNonRealtime()), as pedalboard's
 * renders are, so that the output does not depend on timing. */
#define _POSIX_C_SOURCE 200809L   /* strdup */
#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/options/options.h>
#include <lv2/urid/urid.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- urid:map / urid:unmap: URIs numbered from 1 in order of first use ------------------- */
typedef struct {
    char** uris;
    uint32_t count;
} UriTable;

static LV2_URID map_uri(LV2_URID_Map_Handle handle, const char* uri)
{
    UriTable* t = (UriTable*) handle;
    for (uint32_t i = 0; i < t->count; ++i)
        if (strcmp(t->uris[i], uri) == 0)
            return i + 1;
    char** grown = (char**) realloc(t->uris, (t->count + 1) * sizeof(char*));
    if (grown == NULL)
        return 0;
    t->uris = grown;
    t->uris[t->count] = strdup(uri);
    return ++t->count;
}

static const char* unmap_uri(LV2_URID_Unmap_Handle handle, LV2_URID urid)
{
    UriTable* t = (UriTable*) handle;
    return (urid >= 1 && urid <= t->count) ? t->uris[urid - 1] : NULL;
}

static int fail(const char* what, const char* detail)
{
    fprintf(stderr, "nnplug_lv2_render: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

/* Atom port buffers: large enough for any sequence JUCE writes back in one block. */
#define ATOM_CAPACITY 65536

typedef enum { PORT_OTHER, PORT_AUDIO_IN, PORT_AUDIO_OUT, PORT_CONTROL_IN, PORT_CONTROL_OUT, PORT_ATOM_IN,
               PORT_ATOM_OUT } PortKind;

int main(int argc, char** argv)
{
    if (argc != 8)
    {
        fprintf(stderr, "usage: %s URI RATE BLOCK CHANNELS FRAMES IN.f32 OUT.f32\n", argv[0]);
        return 2;
    }
    const char* uri_text = argv[1];
    const double rate = atof(argv[2]);
    const int32_t block = atoi(argv[3]);
    const uint32_t channels = (uint32_t) atoi(argv[4]);
    const long frames = atol(argv[5]);
    if (rate <= 0 || block <= 0 || channels == 0 || frames < 0)
        return fail("bad arguments", NULL);

    LilvWorld* world = lilv_world_new();
    lilv_world_load_all(world);
    LilvNode* uri = lilv_new_uri(world, uri_text);
    const LilvPlugin* plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), uri);
    if (plugin == NULL)
        return fail("plugin not found (LV2_PATH, ~/.lv2, /usr/lib/lv2)", uri_text);

    UriTable table = { NULL, 0 };
    LV2_URID_Map map = { &table, map_uri };
    LV2_URID_Unmap unmap = { &table, unmap_uri };
    const LV2_URID atom_Int = map_uri(&table, LV2_ATOM__Int);
    const int32_t min_block = 1;
    LV2_Options_Option options[] = {
        { LV2_OPTIONS_INSTANCE, 0, map_uri(&table, LV2_BUF_SIZE__minBlockLength), sizeof(int32_t), atom_Int, &min_block },
        { LV2_OPTIONS_INSTANCE, 0, map_uri(&table, LV2_BUF_SIZE__maxBlockLength), sizeof(int32_t), atom_Int, &block },
        { LV2_OPTIONS_INSTANCE, 0, map_uri(&table, LV2_BUF_SIZE__nominalBlockLength), sizeof(int32_t), atom_Int, &block },
        { LV2_OPTIONS_INSTANCE, 0, 0, 0, 0, NULL },
    };
    LV2_Feature f_map = { LV2_URID__map, &map };
    LV2_Feature f_unmap = { LV2_URID__unmap, &unmap };
    LV2_Feature f_options = { LV2_OPTIONS__options, options };
    LV2_Feature f_bounded = { LV2_BUF_SIZE__boundedBlockLength, NULL };
    const LV2_Feature* features[] = { &f_map, &f_unmap, &f_options, &f_bounded, NULL };

    LilvInstance* instance = lilv_plugin_instantiate(plugin, rate, features);
    if (instance == NULL)
        return fail("instantiation failed", uri_text);

    /* Ports: audio planar buffers of one block, controls at their defaults. */
    const uint32_t n_ports = lilv_plugin_get_num_ports(plugin);
    PortKind* kinds = (PortKind*) calloc(n_ports, sizeof(PortKind));
    float* values = (float*) calloc(n_ports, sizeof(float));
    float** audio = (float**) calloc(n_ports, sizeof(float*));
    LV2_Atom_Sequence** atoms = (LV2_Atom_Sequence**) calloc(n_ports, sizeof(LV2_Atom_Sequence*));
    lilv_plugin_get_port_ranges_float(plugin, NULL, NULL, values);
    LilvNode* c_input = lilv_new_uri(world, LV2_CORE__InputPort);
    LilvNode* c_audio = lilv_new_uri(world, LV2_CORE__AudioPort);
    LilvNode* c_control = lilv_new_uri(world, LV2_CORE__ControlPort);
    LilvNode* c_atom = lilv_new_uri(world, LV2_ATOM__AtomPort);
    LilvNode* d_freewheeling = lilv_new_uri(world, LV2_CORE__freeWheeling);
    LilvNode* d_enabled = lilv_new_uri(world, LV2_CORE_PREFIX "enabled");
    LilvNode* p_latency = lilv_new_uri(world, LV2_CORE__reportsLatency);
    LilvNode* designation = lilv_new_uri(world, LV2_CORE__designation);
    const LV2_URID atom_Sequence = map_uri(&table, LV2_ATOM__Sequence);
    const LV2_URID atom_Chunk = map_uri(&table, LV2_ATOM__Chunk);
    uint32_t n_in = 0, n_out = 0;
    int latency_port = -1;
    for (uint32_t p = 0; p < n_ports; ++p)
    {
        const LilvPort* port = lilv_plugin_get_port_by_index(plugin, p);
        const int is_input = lilv_port_is_a(plugin, port, c_input);
        if (lilv_port_is_a(plugin, port, c_audio))
        {
            kinds[p] = is_input ? PORT_AUDIO_IN : PORT_AUDIO_OUT;
            audio[p] = (float*) calloc((size_t) block, sizeof(float));
            lilv_instance_connect_port(instance, p, audio[p]);
            if (is_input) ++n_in; else ++n_out;
        }
        else if (lilv_port_is_a(plugin, port, c_control))
        {
            kinds[p] = is_input ? PORT_CONTROL_IN : PORT_CONTROL_OUT;
            if (values[p] != values[p])
                values[p] = 0.0f;                 /* no default given (NaN) */
            LilvNodes* designations = lilv_port_get_value(plugin, port, designation);
            LILV_FOREACH (nodes, i, designations)
            {
                const LilvNode* d = lilv_nodes_get(designations, i);
                if (lilv_node_equals(d, d_freewheeling) || lilv_node_equals(d, d_enabled))
                    values[p] = 1.0f;
            }
            lilv_nodes_free(designations);
            if (! is_input && lilv_port_has_property(plugin, port, p_latency))
                latency_port = (int) p;
            lilv_instance_connect_port(instance, p, &values[p]);
        }
        else if (lilv_port_is_a(plugin, port, c_atom))
        {
            kinds[p] = is_input ? PORT_ATOM_IN : PORT_ATOM_OUT;
            atoms[p] = (LV2_Atom_Sequence*) calloc(1, ATOM_CAPACITY);
            lilv_instance_connect_port(instance, p, atoms[p]);
        }
        else
            lilv_instance_connect_port(instance, p, NULL);
    }
    if (n_in == 0 || n_out == 0)
        return fail("the plugin has no audio input or output", NULL);

    /* The input file: CHANNELS planar rows of FRAMES float32; host channel c feeds audio input c
       (the last channel repeats when the plugin has more inputs). */
    float* in = (float*) malloc(sizeof(float) * channels * (size_t) (frames ? frames : 1));
    float* out = (float*) calloc((size_t) n_out * (size_t) (frames ? frames : 1), sizeof(float));
    FILE* f = fopen(argv[6], "rb");
    if (f == NULL || fread(in, sizeof(float), channels * (size_t) frames, f) != channels * (size_t) frames)
        return fail("cannot read the input file", argv[6]);
    fclose(f);

    lilv_instance_activate(instance);
    for (long pos = 0; pos < frames; pos += block)
    {
        const uint32_t n = (uint32_t) ((frames - pos) < block ? (frames - pos) : block);
        uint32_t ai = 0;
        for (uint32_t p = 0; p < n_ports; ++p)
        {
            if (kinds[p] == PORT_AUDIO_IN)
            {
                const uint32_t c = ai < channels ? ai : channels - 1;
                memcpy(audio[p], in + (size_t) c * (size_t) frames + pos, n * sizeof(float));
                ++ai;
            }
            else if (kinds[p] == PORT_ATOM_IN)
            {   /* an empty event sequence: no parameter changes, no transport */
                atoms[p]->atom.type = atom_Sequence;
                atoms[p]->atom.size = sizeof(LV2_Atom_Sequence_Body);
                atoms[p]->body.unit = 0;
                atoms[p]->body.pad = 0;
            }
            else if (kinds[p] == PORT_ATOM_OUT)
            {   /* the space the plugin may write into, as a Chunk (the atom port convention) */
                atoms[p]->atom.type = atom_Chunk;
                atoms[p]->atom.size = ATOM_CAPACITY - sizeof(LV2_Atom);
            }
        }
        lilv_instance_run(instance, n);
        uint32_t ao = 0;
        for (uint32_t p = 0; p < n_ports; ++p)
            if (kinds[p] == PORT_AUDIO_OUT)
                memcpy(out + (size_t) (ao++) * (size_t) frames + pos, audio[p], n * sizeof(float));
    }
    lilv_instance_deactivate(instance);

    f = fopen(argv[7], "wb");
    if (f == NULL || fwrite(out, sizeof(float), (size_t) n_out * (size_t) frames, f) != (size_t) n_out * (size_t) frames)
        return fail("cannot write the output file", argv[7]);
    fclose(f);
    printf("latency %d\n", latency_port >= 0 ? (int) values[latency_port] : -1);
    printf("outputs %u\n", n_out);

    lilv_instance_free(instance);
    lilv_node_free(uri);
    lilv_world_free(world);
    return 0;
}
