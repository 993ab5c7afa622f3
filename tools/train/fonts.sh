#!/usr/bin/env bash
# Data recipe, part 1: the Debian (bookworm) font and background-image packages the synthetic generator draws on.
# Run as root (or with sudo) once per machine: `bash tools/train/fonts.sh`. Idempotent.
# The generator (tools/train/synth.py) scans the directories these packages install into; the font list it
# actually uses is written (sorted, with sha1 of each file) by `python3 tools/train/synth.py --list-assets`.
set -euo pipefail

FONT_PACKAGES=(
  # --- sans (web / UI / document)
  fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-liberation2 fonts-croscore
  fonts-crosextra-carlito fonts-noto-core fonts-noto-ui-core fonts-open-sans fonts-roboto-unhinted
  fonts-lato fonts-inter fonts-cantarell fonts-freefont-ttf fonts-cabin fonts-clear-sans fonts-karla
  fonts-manrope fonts-quicksand fonts-comfortaa fonts-dosis fonts-oxygen fonts-b612 fonts-opendin
  fonts-league-spartan fonts-play fonts-junction fonts-allerta fonts-tiresias fonts-sora fonts-paratype
  fonts-arkpandora fonts-go fonts-adf-verana fonts-adf-gillius fonts-adf-switzera fonts-national-park
  fonts-roadgeek fonts-wine fonts-sil-andika fonts-millimetre fonts-jura fonts-fantasma
  # --- condensed / display / headings
  fonts-yanone-kaffeesatz fonts-bebas-neue fonts-ubuntu-title fonts-radisnoir fonts-okolaks fonts-stick
  fonts-engadget fonts-f500 fonts-eurofurence
  # --- serif
  fonts-urw-base35 fonts-texgyre fonts-linuxlibertine fonts-ebgaramond fonts-vollkorn fonts-lmodern
  fonts-oldstandard fonts-quattrocento fonts-sil-gentiumplus fonts-sil-charis fonts-crosextra-caladea
  fonts-century-catalogue fonts-fanwood fonts-goudybookletter fonts-cardo fonts-adf-baskervald
  fonts-adf-accanthis fonts-adf-libris fonts-adf-tribun fonts-roboto-slab fonts-lindenhill fonts-arapey
  # --- monospace / typewriter / OCR / pixel (receipts, forms, screenshots)
  fonts-hack fonts-inconsolata fonts-jetbrains-mono fonts-firacode fonts-courier-prime fonts-anonymous-pro
  fonts-mononoki fonts-noto-mono fonts-ocr-a fonts-ocr-b fonts-gnutypewriter fonts-agave fonts-hermit
  fonts-league-mono fonts-pc fonts-dseg fonts-sixtyfour fonts-unifont fonts-routed-gothic
  # --- handwriting-like / informal / script
  fonts-comic-neue fonts-humor-sans fonts-dkg-handwriting fonts-breip fonts-sjfonts fonts-kristi
  fonts-dancingscript fonts-kaushanscript fonts-lobster fonts-lobstertwo fonts-femkeklaver fonts-rufscript
  fonts-tomsontalks fonts-leckerli-one fonts-cherrybomb fonts-cabinsketch fonts-averia-gwf fonts-staypuft
  fonts-summersby fonts-dustin fonts-ecolier-court fonts-bwht fonts-isabella
  # --- large decorative collection (sampled with a low weight)
  fonts-aenigma
)

BACKGROUND_PACKAGES=(
  desktop-base gnome-backgrounds mate-backgrounds plasma-workspace-wallpapers ukui-wallpapers
  lomiri-wallpapers lomiri-wallpapers-20.04 sway-backgrounds propaganda-debian xfdesktop4-data
  kdegames-mahjongg-data-kf5
  # textures (paper, canvas, wood, fabric, stone): mypaint paper grains, GIMP patterns
  mypaint-data-extras gimp-data
  # word list
  wamerican
)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${FONT_PACKAGES[@]}" "${BACKGROUND_PACKAGES[@]}" >/dev/null
$SUDO fc-cache -f >/dev/null 2>&1 || true
echo "installed ${#FONT_PACKAGES[@]} font packages and ${#BACKGROUND_PACKAGES[@]} background packages"
