#include "ModelBrowser.h"

namespace nnplug {

namespace {

constexpr int kMaxRecent = 8;

std::unique_ptr<juce::PropertiesFile> openSettings()
{
    const auto env = juce::SystemStats::getEnvironmentVariable ("NNPLUG_EDITOR_SETTINGS", {});
    juce::File file;
    if (juce::File::isAbsolutePath (env))
        file = juce::File (env);
    else if (auto dir = userModelsDir(); dir != juce::File())
        file = dir.getParentDirectory().getChildFile ("editor.settings");
    juce::PropertiesFile::Options o;
    o.storageFormat = juce::PropertiesFile::storeAsXML;
    o.millisecondsBeforeSaving = 0;   // written at once: several plugin instances share it
    return std::make_unique<juce::PropertiesFile> (file, o);
}

} // namespace

ModelBrowser::ModelBrowser() : settings (openSettings())
{
    prev.setTooltip ("Previous model");
    next.setTooltip ("Next model");
    menuButton.setTooltip ("Choose a model: the bundle's, your models folder's, or a recent one");
    loadButton.setTooltip ("Load a model file (.ts, .pt, .nm); you can also drop one onto the window");
    prev.setComponentID ("prev");
    next.setComponentID ("next");
    menuButton.setComponentID ("modelMenu");
    loadButton.setComponentID ("load");
    prev.onClick = [this] { step (-1); };
    next.onClick = [this] { step (+1); };
    loadButton.onClick = [this] { openFileChooser(); };
    menuButton.onClick = [this]
    {
        buildMenu().showMenuAsync (juce::PopupMenu::Options().withTargetComponent (&menuButton).withMinimumWidth (menuButton.getWidth()));
    };
    for (auto* b : { &prev, &next, &menuButton, &loadButton })
        addAndMakeVisible (b);
    rescan();
}

ModelBrowser::~ModelBrowser() = default;

bool ModelBrowser::isModelFile (const juce::String& path)
{
    const auto f = juce::File (path);
    return f.existsAsFile() && f.hasFileExtension ("ts;pt;nm");
}

void ModelBrowser::rescan()
{
    list = listModels();
    prev.setEnabled (! list.isEmpty());
    next.setEnabled (! list.isEmpty());
}

void ModelBrowser::setCurrent (const juce::String& path, const juce::String& name)
{
    currentPath = path;
    menuButton.setButtonText ((name.isNotEmpty() ? name : juce::String ("Choose a model")) + juce::String (juce::CharPointer_UTF8 ("  \xe2\x96\xbe")));
}

void ModelBrowser::step (int delta)
{
    if (list.isEmpty())
        return;
    int at = -1;
    for (int i = 0; i < list.size(); ++i)
        if (list[i].file.getFullPathName() == currentPath)
            at = i;
    const int n = list.size();
    const int to = at < 0 ? (delta > 0 ? 0 : n - 1) : ((at + delta) % n + n) % n;
    choose (list[to].file);
}

void ModelBrowser::choose (const juce::File& file)
{
    auto recent = recentFiles();
    recent.removeString (file.getFullPathName());
    recent.insert (0, file.getFullPathName());
    while (recent.size() > kMaxRecent)
        recent.remove (recent.size() - 1);
    settings->setValue ("recent", recent.joinIntoString ("\n"));
    settings->setValue ("lastFolder", file.getParentDirectory().getFullPathName());
    settings->getFile().getParentDirectory().createDirectory();
    settings->saveIfNeeded();
    currentPath = file.getFullPathName();
    if (onChoose)
        onChoose (file.getFullPathName());
}

juce::StringArray ModelBrowser::recentFiles() const
{
    return juce::StringArray::fromLines (settings->getValue ("recent"));
}

juce::File ModelBrowser::lastFolder() const
{
    const auto f = juce::File (settings->getValue ("lastFolder"));
    if (juce::File::isAbsolutePath (settings->getValue ("lastFolder")) && f.isDirectory())
        return f;
    const auto user = userModelsDir();
    return user.isDirectory() ? user : juce::File::getSpecialLocation (juce::File::userHomeDirectory);
}

juce::PopupMenu ModelBrowser::buildMenu()
{
    rescan();
    juce::PopupMenu m;
    auto add = [&] (const juce::String& text, const juce::File& f)
    {
        juce::PopupMenu::Item item (text);
        item.setTicked (f.getFullPathName() == currentPath);
        item.setAction ([this, f] { choose (f); });
        m.addItem (item);
    };
    m.addSectionHeader ("In the plugin");
    bool any = false;
    for (const auto& e : list)
        if (e.bundled) { add (e.name, e.file); any = true; }
    if (! any)
        m.addItem ("(none staged)", false, false, nullptr);
    m.addSectionHeader ("My models  (" + userModelsDir().getFullPathName() + ")");
    any = false;
    for (const auto& e : list)
        if (! e.bundled)
        {
            add (e.file.getRelativePathFrom (userModelsDir()), e.file);
            any = true;
        }
    if (! any)
        m.addItem ("(empty: put .ts files here)", false, false, nullptr);
    const auto recent = recentFiles();
    if (! recent.isEmpty())
    {
        m.addSectionHeader ("Recent");
        for (const auto& r : recent)
            if (juce::File (r).existsAsFile())
                add (juce::File (r).getFileName() + "  " + juce::String (juce::CharPointer_UTF8 ("\xe2\x80\x94 ")) + juce::File (r).getParentDirectory().getFullPathName(), juce::File (r));
    }
    m.addSeparator();
    m.addItem (juce::String (juce::CharPointer_UTF8 ("Load a model file\xe2\x80\xa6")), [this] { openFileChooser(); });
    m.addItem ("Show my models folder", [] { auto d = userModelsDir(); d.createDirectory(); d.startAsProcess(); });
    m.addItem ("Rescan", [this] { rescan(); });
    return m;
}

void ModelBrowser::openFileChooser()
{
    chooser = std::make_unique<juce::FileChooser> ("Load a model (TorchScript: RAVE, nn~, Neutone, nnplug)", lastFolder(), "*.ts;*.pt;*.nm");
    chooser->launchAsync (juce::FileBrowserComponent::openMode | juce::FileBrowserComponent::canSelectFiles,
                          [this] (const juce::FileChooser& fc)
                          {
                              const auto f = fc.getResult();
                              if (f.existsAsFile())
                                  choose (f);
                          });
}

void ModelBrowser::resized()
{
    auto r = getLocalBounds();
    prev.setBounds (r.removeFromLeft (30));
    r.removeFromLeft (4);
    next.setBounds (r.removeFromLeft (30));
    r.removeFromLeft (6);
    loadButton.setBounds (r.removeFromRight (74));
    r.removeFromRight (6);
    menuButton.setBounds (r);
}

} // namespace nnplug
