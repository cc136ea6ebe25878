/*
 * words.c - the 256 words of the short authentication string (SAS).
 *
 * docs/protocol.md §5.3: the SAS is 4 bytes; each byte (0-255) picks one
 * word of this list, in order, and the words are joined by single spaces
 * ("amber falcon quilt river").  Two people read them to each other, so
 * the list was composed for the ear: common English words of 4 to 7
 * lowercase letters; no words with a common homophone ("bear"/"bare",
 * "border"/"boarder", "quartz"/"quarts" were left out), two pronunciations
 * or two spellings; no plurals; nothing offensive; no two words that rhyme
 * closely ("pocket"/"rocket"); any two words at least two letters apart
 * (edit distance) and every word's first three letters unique, so that
 * three letters tell one word from all others.  Alphabetical order.
 * tests/test_ake.c checks the mechanical properties.
 *
 * This list is hotline's own; it is not the PGP word list or any other
 * published list, and it is part of the wire format (never reorder it).
 */
#include "hotline/ake.h"

static const char *const words[256] = {
	"acorn",   "album",   "alpine",	 "amber",   "anchor",  "animal",
	"apple",   "apron",   "arena",	 "arrow",   "artist",  "aspen",
	"atlas",   "attic",   "autumn",	 "avenue",  "bacon",   "badge",
	"bagel",   "bakery",  "bamboo",	 "banana",  "basket",  "beaver",
	"bicycle", "bird",    "biscuit", "blanket", "blossom", "boat",
	"bonus",   "bottle",  "breeze",	 "bridge",  "bronze",  "brush",
	"bubble",  "bucket",  "budget",	 "buffalo", "button",  "cabin",
	"cactus",  "camel",   "candle",	 "captain", "carpet",  "castle",
	"cement",  "chalk",   "cherry",	 "chimney", "circus",  "cliff",
	"cloud",   "coach",   "cobalt",	 "coffee",  "comet",   "copper",
	"cotton",  "cousin",  "cowboy",	 "coyote",  "crayon",  "crystal",
	"cushion", "daisy",   "dancer",	 "delta",   "diamond", "dinner",
	"doctor",  "dolphin", "dragon",	 "dream",   "drift",   "duck",
	"eagle",   "earth",   "echo",	 "elbow",   "empire",  "engine",
	"fabric",  "falcon",  "farmer",	 "feather", "fence",   "fiddle",
	"fire",	   "fish",    "flame",	 "flute",   "forest",  "fossil",
	"frog",	   "galaxy",  "garden",	 "gentle",  "giant",   "ginger",
	"giraffe", "glacier", "global",	 "golden",  "granite", "guitar",
	"hammer",  "harvest", "hazel",	 "helmet",  "honey",   "hotel",
	"iceberg", "igloo",   "iron",	 "island",  "ivory",   "jacket",
	"jaguar",  "jelly",   "jigsaw",	 "journey", "jungle",  "kayak",
	"kettle",  "kitten",  "koala",	 "ladder",  "lake",    "lantern",
	"laptop",  "laser",   "leaf",	 "lemon",   "lime",    "lion",
	"lobster", "lotus",   "lunar",	 "magnet",  "mango",   "marble",
	"meadow",  "melon",   "mentor",	 "mercury", "milk",    "mint",
	"mirror",  "monkey",  "moon",	 "mosaic",  "muffin",  "museum",
	"nature",  "nickel",  "noodle",	 "nugget",  "oasis",   "ocean",
	"octopus", "olive",   "onion",	 "opera",   "orange",  "orbit",
	"orchard", "otter",   "oxygen",	 "palace",  "panda",   "paper",
	"parrot",  "pasta",   "peanut",	 "pelican", "pencil",  "piano",
	"picnic",  "planet",  "polar",	 "potato",  "powder",  "prairie",
	"pretzel", "pumpkin", "puzzle",	 "pyramid", "queen",   "quilt",
	"rabbit",  "raccoon", "radio",	 "rainbow", "ranch",   "raven",
	"ribbon",  "rice",    "river",	 "rocket",  "rope",    "ruby",
	"saddle",  "salad",   "sand",	 "satin",   "scarf",   "season",
	"shadow",  "ship",    "shovel",	 "silver",  "sketch",  "snow",
	"spider",  "sponge",  "spring",	 "star",    "storm",   "sugar",
	"summit",  "sunset",  "swamp",	 "sweater", "tablet",  "teapot",
	"temple",  "tennis",  "thunder", "ticket",  "tiger",   "toast",
	"topaz",   "torch",   "tulip",	 "tunnel",  "turtle",  "tuxedo",
	"unicorn", "valley",  "velvet",	 "violin",  "volcano", "voyage",
	"waffle",  "walrus",  "wheat",	 "whistle", "willow",  "winter",
	"wizard",  "wolf",    "zebra",	 "zipper",
};

/* Word i of the list (every uint8_t value is valid).  Static storage. */
const char *hl_sas_word(uint8_t i)
{
	return words[i];
}
