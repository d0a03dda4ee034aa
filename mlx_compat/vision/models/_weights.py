"""The weights enums of the classification models (torchvision's names, URLs and metadata) and ImageNet's class names.

Members only describe published checkpoints; nothing is downloaded (Note [no weight downloads] in _api.py).
"""
from functools import partial

from ..transforms.functional import InterpolationMode
from ._api import Weights, WeightsEnum
from ._presets import ImageClassification


_IMAGENET_CATEGORIES = ['tench', 'goldfish', 'great white shark', 'tiger shark', 'hammerhead', 'electric ray', 'stingray', 'cock', 'hen', 'ostrich', 'brambling', 'goldfinch', 'house finch', 'junco', 'indigo bunting', 'robin', 'bulbul', 'jay', 'magpie', 'chickadee', 'water ouzel', 'kite', 'bald eagle', 'vulture', 'great grey owl', 'European fire salamander', 'common newt', 'eft', 'spotted salamander', 'axolotl', 'bullfrog', 'tree frog', 'tailed frog', 'loggerhead', 'leatherback turtle', 'mud turtle', 'terrapin', 'box turtle', 'banded gecko', 'common iguana', 'American chameleon', 'whiptail', 'agama', 'frilled lizard', 'alligator lizard', 'Gila monster', 'green lizard', 'African chameleon', 'Komodo dragon', 'African crocodile', 'American alligator', 'triceratops', 'thunder snake', 'ringneck snake', 'hognose snake', 'green snake', 'king snake', 'garter snake', 'water snake', 'vine snake', 'night snake', 'boa constrictor', 'rock python', 'Indian cobra', 'green mamba', 'sea snake', 'horned viper', 'diamondback', 'sidewinder', 'trilobite', 'harvestman', 'scorpion', 'black and gold garden spider', 'barn spider', 'garden spider', 'black widow', 'tarantula', 'wolf spider', 'tick', 'centipede', 'black grouse', 'ptarmigan', 'ruffed grouse', 'prairie chicken', 'peacock', 'quail', 'partridge', 'African grey', 'macaw', 'sulphur-crested cockatoo', 'lorikeet', 'coucal', 'bee eater', 'hornbill', 'hummingbird', 'jacamar', 'toucan', 'drake', 'red-breasted merganser', 'goose', 'black swan', 'tusker', 'echidna', 'platypus', 'wallaby', 'koala', 'wombat', 'jellyfish', 'sea anemone', 'brain coral', 'flatworm', 'nematode', 'conch', 'snail', 'slug', 'sea slug', 'chiton', 'chambered nautilus', 'Dungeness crab', 'rock crab', 'fiddler crab', 'king crab', 'American lobster', 'spiny lobster', 'crayfish', 'hermit crab', 'isopod', 'white stork', 'black stork', 'spoonbill', 'flamingo', 'little blue heron', 'American egret', 'bittern', 'crane bird', 'limpkin', 'European gallinule', 'American coot', 'bustard', 'ruddy turnstone', 'red-backed sandpiper', 'redshank', 'dowitcher', 'oystercatcher', 'pelican', 'king penguin', 'albatross', 'grey whale', 'killer whale', 'dugong', 'sea lion', 'Chihuahua', 'Japanese spaniel', 'Maltese dog', 'Pekinese', 'Shih-Tzu', 'Blenheim spaniel', 'papillon', 'toy terrier', 'Rhodesian ridgeback', 'Afghan hound', 'basset', 'beagle', 'bloodhound', 'bluetick', 'black-and-tan coonhound', 'Walker hound', 'English foxhound', 'redbone', 'borzoi', 'Irish wolfhound', 'Italian greyhound', 'whippet', 'Ibizan hound', 'Norwegian elkhound', 'otterhound', 'Saluki', 'Scottish deerhound', 'Weimaraner', 'Staffordshire bullterrier', 'American Staffordshire terrier', 'Bedlington terrier', 'Border terrier', 'Kerry blue terrier', 'Irish terrier', 'Norfolk terrier', 'Norwich terrier', 'Yorkshire terrier', 'wire-haired fox terrier', 'Lakeland terrier', 'Sealyham terrier', 'Airedale', 'cairn', 'Australian terrier', 'Dandie Dinmont', 'Boston bull', 'miniature schnauzer', 'giant schnauzer', 'standard schnauzer', 'Scotch terrier', 'Tibetan terrier', 'silky terrier', 'soft-coated wheaten terrier', 'West Highland white terrier', 'Lhasa', 'flat-coated retriever', 'curly-coated retriever', 'golden retriever', 'Labrador retriever', 'Chesapeake Bay retriever', 'German short-haired pointer', 'vizsla', 'English setter', 'Irish setter', 'Gordon setter', 'Brittany spaniel', 'clumber', 'English springer', 'Welsh springer spaniel', 'cocker spaniel', 'Sussex spaniel', 'Irish water spaniel', 'kuvasz', 'schipperke', 'groenendael', 'malinois', 'briard', 'kelpie', 'komondor', 'Old English sheepdog', 'Shetland sheepdog', 'collie', 'Border collie', 'Bouvier des Flandres', 'Rottweiler', 'German shepherd', 'Doberman', 'miniature pinscher', 'Greater Swiss Mountain dog', 'Bernese mountain dog', 'Appenzeller', 'EntleBucher', 'boxer', 'bull mastiff', 'Tibetan mastiff', 'French bulldog', 'Great Dane', 'Saint Bernard', 'Eskimo dog', 'malamute', 'Siberian husky', 'dalmatian', 'affenpinscher', 'basenji', 'pug', 'Leonberg', 'Newfoundland', 'Great Pyrenees', 'Samoyed', 'Pomeranian', 'chow', 'keeshond', 'Brabancon griffon', 'Pembroke', 'Cardigan', 'toy poodle', 'miniature poodle', 'standard poodle', 'Mexican hairless', 'timber wolf', 'white wolf', 'red wolf', 'coyote', 'dingo', 'dhole', 'African hunting dog', 'hyena', 'red fox', 'kit fox', 'Arctic fox', 'grey fox', 'tabby', 'tiger cat', 'Persian cat', 'Siamese cat', 'Egyptian cat', 'cougar', 'lynx', 'leopard', 'snow leopard', 'jaguar', 'lion', 'tiger', 'cheetah', 'brown bear', 'American black bear', 'ice bear', 'sloth bear', 'mongoose', 'meerkat', 'tiger beetle', 'ladybug', 'ground beetle', 'long-horned beetle', 'leaf beetle', 'dung beetle', 'rhinoceros beetle', 'weevil', 'fly', 'bee', 'ant', 'grasshopper', 'cricket', 'walking stick', 'cockroach', 'mantis', 'cicada', 'leafhopper', 'lacewing', 'dragonfly', 'damselfly', 'admiral', 'ringlet', 'monarch', 'cabbage butterfly', 'sulphur butterfly', 'lycaenid', 'starfish', 'sea urchin', 'sea cucumber', 'wood rabbit', 'hare', 'Angora', 'hamster', 'porcupine', 'fox squirrel', 'marmot', 'beaver', 'guinea pig', 'sorrel', 'zebra', 'hog', 'wild boar', 'warthog', 'hippopotamus', 'ox', 'water buffalo', 'bison', 'ram', 'bighorn', 'ibex', 'hartebeest', 'impala', 'gazelle', 'Arabian camel', 'llama', 'weasel', 'mink', 'polecat', 'black-footed ferret', 'otter', 'skunk', 'badger', 'armadillo', 'three-toed sloth', 'orangutan', 'gorilla', 'chimpanzee', 'gibbon', 'siamang', 'guenon', 'patas', 'baboon', 'macaque', 'langur', 'colobus', 'proboscis monkey', 'marmoset', 'capuchin', 'howler monkey', 'titi', 'spider monkey', 'squirrel monkey', 'Madagascar cat', 'indri', 'Indian elephant', 'African elephant', 'lesser panda', 'giant panda', 'barracouta', 'eel', 'coho', 'rock beauty', 'anemone fish', 'sturgeon', 'gar', 'lionfish', 'puffer', 'abacus', 'abaya', 'academic gown', 'accordion', 'acoustic guitar', 'aircraft carrier', 'airliner', 'airship', 'altar', 'ambulance', 'amphibian', 'analog clock', 'apiary', 'apron', 'ashcan', 'assault rifle', 'backpack', 'bakery', 'balance beam', 'balloon', 'ballpoint', 'Band Aid', 'banjo', 'bannister', 'barbell', 'barber chair', 'barbershop', 'barn', 'barometer', 'barrel', 'barrow', 'baseball', 'basketball', 'bassinet', 'bassoon', 'bathing cap', 'bath towel', 'bathtub', 'beach wagon', 'beacon', 'beaker', 'bearskin', 'beer bottle', 'beer glass', 'bell cote', 'bib', 'bicycle-built-for-two', 'bikini', 'binder', 'binoculars', 'birdhouse', 'boathouse', 'bobsled', 'bolo tie', 'bonnet', 'bookcase', 'bookshop', 'bottlecap', 'bow', 'bow tie', 'brass', 'brassiere', 'breakwater', 'breastplate', 'broom', 'bucket', 'buckle', 'bulletproof vest', 'bullet train', 'butcher shop', 'cab', 'caldron', 'candle', 'cannon', 'canoe', 'can opener', 'cardigan', 'car mirror', 'carousel', "carpenter's kit", 'carton', 'car wheel', 'cash machine', 'cassette', 'cassette player', 'castle', 'catamaran', 'CD player', 'cello', 'cellular telephone', 'chain', 'chainlink fence', 'chain mail', 'chain saw', 'chest', 'chiffonier', 'chime', 'china cabinet', 'Christmas stocking', 'church', 'cinema', 'cleaver', 'cliff dwelling', 'cloak', 'clog', 'cocktail shaker', 'coffee mug', 'coffeepot', 'coil', 'combination lock', 'computer keyboard', 'confectionery', 'container ship', 'convertible', 'corkscrew', 'cornet', 'cowboy boot', 'cowboy hat', 'cradle', 'crane', 'crash helmet', 'crate', 'crib', 'Crock Pot', 'croquet ball', 'crutch', 'cuirass', 'dam', 'desk', 'desktop computer', 'dial telephone', 'diaper', 'digital clock', 'digital watch', 'dining table', 'dishrag', 'dishwasher', 'disk brake', 'dock', 'dogsled', 'dome', 'doormat', 'drilling platform', 'drum', 'drumstick', 'dumbbell', 'Dutch oven', 'electric fan', 'electric guitar', 'electric locomotive', 'entertainment center', 'envelope', 'espresso maker', 'face powder', 'feather boa', 'file', 'fireboat', 'fire engine', 'fire screen', 'flagpole', 'flute', 'folding chair', 'football helmet', 'forklift', 'fountain', 'fountain pen', 'four-poster', 'freight car', 'French horn', 'frying pan', 'fur coat', 'garbage truck', 'gasmask', 'gas pump', 'goblet', 'go-kart', 'golf ball', 'golfcart', 'gondola', 'gong', 'gown', 'grand piano', 'greenhouse', 'grille', 'grocery store', 'guillotine', 'hair slide', 'hair spray', 'half track', 'hammer', 'hamper', 'hand blower', 'hand-held computer', 'handkerchief', 'hard disc', 'harmonica', 'harp', 'harvester', 'hatchet', 'holster', 'home theater', 'honeycomb', 'hook', 'hoopskirt', 'horizontal bar', 'horse cart', 'hourglass', 'iPod', 'iron', "jack-o'-lantern", 'jean', 'jeep', 'jersey', 'jigsaw puzzle', 'jinrikisha', 'joystick', 'kimono', 'knee pad', 'knot', 'lab coat', 'ladle', 'lampshade', 'laptop', 'lawn mower', 'lens cap', 'letter opener', 'library', 'lifeboat', 'lighter', 'limousine', 'liner', 'lipstick', 'Loafer', 'lotion', 'loudspeaker', 'loupe', 'lumbermill', 'magnetic compass', 'mailbag', 'mailbox', 'maillot', 'maillot tank suit', 'manhole cover', 'maraca', 'marimba', 'mask', 'matchstick', 'maypole', 'maze', 'measuring cup', 'medicine chest', 'megalith', 'microphone', 'microwave', 'military uniform', 'milk can', 'minibus', 'miniskirt', 'minivan', 'missile', 'mitten', 'mixing bowl', 'mobile home', 'Model T', 'modem', 'monastery', 'monitor', 'moped', 'mortar', 'mortarboard', 'mosque', 'mosquito net', 'motor scooter', 'mountain bike', 'mountain tent', 'mouse', 'mousetrap', 'moving van', 'muzzle', 'nail', 'neck brace', 'necklace', 'nipple', 'notebook', 'obelisk', 'oboe', 'ocarina', 'odometer', 'oil filter', 'organ', 'oscilloscope', 'overskirt', 'oxcart', 'oxygen mask', 'packet', 'paddle', 'paddlewheel', 'padlock', 'paintbrush', 'pajama', 'palace', 'panpipe', 'paper towel', 'parachute', 'parallel bars', 'park bench', 'parking meter', 'passenger car', 'patio', 'pay-phone', 'pedestal', 'pencil box', 'pencil sharpener', 'perfume', 'Petri dish', 'photocopier', 'pick', 'pickelhaube', 'picket fence', 'pickup', 'pier', 'piggy bank', 'pill bottle', 'pillow', 'ping-pong ball', 'pinwheel', 'pirate', 'pitcher', 'plane', 'planetarium', 'plastic bag', 'plate rack', 'plow', 'plunger', 'Polaroid camera', 'pole', 'police van', 'poncho', 'pool table', 'pop bottle', 'pot', "potter's wheel", 'power drill', 'prayer rug', 'printer', 'prison', 'projectile', 'projector', 'puck', 'punching bag', 'purse', 'quill', 'quilt', 'racer', 'racket', 'radiator', 'radio', 'radio telescope', 'rain barrel', 'recreational vehicle', 'reel', 'reflex camera', 'refrigerator', 'remote control', 'restaurant', 'revolver', 'rifle', 'rocking chair', 'rotisserie', 'rubber eraser', 'rugby ball', 'rule', 'running shoe', 'safe', 'safety pin', 'saltshaker', 'sandal', 'sarong', 'sax', 'scabbard', 'scale', 'school bus', 'schooner', 'scoreboard', 'screen', 'screw', 'screwdriver', 'seat belt', 'sewing machine', 'shield', 'shoe shop', 'shoji', 'shopping basket', 'shopping cart', 'shovel', 'shower cap', 'shower curtain', 'ski', 'ski mask', 'sleeping bag', 'slide rule', 'sliding door', 'slot', 'snorkel', 'snowmobile', 'snowplow', 'soap dispenser', 'soccer ball', 'sock', 'solar dish', 'sombrero', 'soup bowl', 'space bar', 'space heater', 'space shuttle', 'spatula', 'speedboat', 'spider web', 'spindle', 'sports car', 'spotlight', 'stage', 'steam locomotive', 'steel arch bridge', 'steel drum', 'stethoscope', 'stole', 'stone wall', 'stopwatch', 'stove', 'strainer', 'streetcar', 'stretcher', 'studio couch', 'stupa', 'submarine', 'suit', 'sundial', 'sunglass', 'sunglasses', 'sunscreen', 'suspension bridge', 'swab', 'sweatshirt', 'swimming trunks', 'swing', 'switch', 'syringe', 'table lamp', 'tank', 'tape player', 'teapot', 'teddy', 'television', 'tennis ball', 'thatch', 'theater curtain', 'thimble', 'thresher', 'throne', 'tile roof', 'toaster', 'tobacco shop', 'toilet seat', 'torch', 'totem pole', 'tow truck', 'toyshop', 'tractor', 'trailer truck', 'tray', 'trench coat', 'tricycle', 'trimaran', 'tripod', 'triumphal arch', 'trolleybus', 'trombone', 'tub', 'turnstile', 'typewriter keyboard', 'umbrella', 'unicycle', 'upright', 'vacuum', 'vase', 'vault', 'velvet', 'vending machine', 'vestment', 'viaduct', 'violin', 'volleyball', 'waffle iron', 'wall clock', 'wallet', 'wardrobe', 'warplane', 'washbasin', 'washer', 'water bottle', 'water jug', 'water tower', 'whiskey jug', 'whistle', 'wig', 'window screen', 'window shade', 'Windsor tie', 'wine bottle', 'wing', 'wok', 'wooden spoon', 'wool', 'worm fence', 'wreck', 'yawl', 'yurt', 'web site', 'comic book', 'crossword puzzle', 'street sign', 'traffic light', 'book jacket', 'menu', 'plate', 'guacamole', 'consomme', 'hot pot', 'trifle', 'ice cream', 'ice lolly', 'French loaf', 'bagel', 'pretzel', 'cheeseburger', 'hotdog', 'mashed potato', 'head cabbage', 'broccoli', 'cauliflower', 'zucchini', 'spaghetti squash', 'acorn squash', 'butternut squash', 'cucumber', 'artichoke', 'bell pepper', 'cardoon', 'mushroom', 'Granny Smith', 'strawberry', 'orange', 'lemon', 'fig', 'pineapple', 'banana', 'jackfruit', 'custard apple', 'pomegranate', 'hay', 'carbonara', 'chocolate sauce', 'dough', 'meat loaf', 'pizza', 'potpie', 'burrito', 'red wine', 'espresso', 'cup', 'eggnog', 'alp', 'bubble', 'cliff', 'coral reef', 'geyser', 'lakeside', 'promontory', 'sandbar', 'seashore', 'valley', 'volcano', 'ballplayer', 'groom', 'scuba diver', 'rapeseed', 'daisy', "yellow lady's slipper", 'corn', 'acorn', 'hip', 'buckeye', 'coral fungus', 'agaric', 'gyromitra', 'stinkhorn', 'earthstar', 'hen-of-the-woods', 'bolete', 'ear', 'toilet tissue']


class ResNet18_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/resnet18-f37072fd.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={'num_params': 11689512, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 69.758, 'acc@5': 89.078}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#resnet', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class ResNet34_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/resnet34-b627a593.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={'num_params': 21797672, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 73.314, 'acc@5': 91.42}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#resnet', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class ResNet50_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/resnet50-0676ba61.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={'num_params': 25557032, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 76.13, 'acc@5': 92.862}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#resnet', 'categories': _IMAGENET_CATEGORIES},
    )
    IMAGENET1K_V2 = Weights(
        url='https://download.pytorch.org/models/resnet50-11ad3fa6.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={'num_params': 25557032, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 80.858, 'acc@5': 95.434}}, 'recipe': 'https://github.com/pytorch/vision/issues/3995#issuecomment-1013906621', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V2


class ResNet101_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/resnet101-63fe2227.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={'num_params': 44549160, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 77.374, 'acc@5': 93.546}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#resnet', 'categories': _IMAGENET_CATEGORIES},
    )
    IMAGENET1K_V2 = Weights(
        url='https://download.pytorch.org/models/resnet101-cd907fc2.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={'num_params': 44549160, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 81.886, 'acc@5': 95.78}}, 'recipe': 'https://github.com/pytorch/vision/issues/3995#new-recipe', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V2


class ResNet152_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/resnet152-394f9c45.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={'num_params': 60192808, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 78.312, 'acc@5': 94.046}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#resnet', 'categories': _IMAGENET_CATEGORIES},
    )
    IMAGENET1K_V2 = Weights(
        url='https://download.pytorch.org/models/resnet152-f82ba261.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={'num_params': 60192808, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 82.284, 'acc@5': 96.002}}, 'recipe': 'https://github.com/pytorch/vision/issues/3995#new-recipe', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V2


class ResNeXt50_32X4D_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/resnext50_32x4d-7cdf4587.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={'num_params': 25028904, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 77.618, 'acc@5': 93.698}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#resnext', 'categories': _IMAGENET_CATEGORIES},
    )
    IMAGENET1K_V2 = Weights(
        url='https://download.pytorch.org/models/resnext50_32x4d-1a0047aa.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={'num_params': 25028904, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 81.198, 'acc@5': 95.34}}, 'recipe': 'https://github.com/pytorch/vision/issues/3995#new-recipe', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V2


class ResNeXt101_32X8D_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/resnext101_32x8d-8ba56ff5.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={'num_params': 88791336, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 79.312, 'acc@5': 94.526}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#resnext', 'categories': _IMAGENET_CATEGORIES},
    )
    IMAGENET1K_V2 = Weights(
        url='https://download.pytorch.org/models/resnext101_32x8d-110c445d.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={'num_params': 88791336, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 82.834, 'acc@5': 96.228}}, 'recipe': 'https://github.com/pytorch/vision/issues/3995#new-recipe-with-fixres', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V2


class ResNeXt101_64X4D_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/resnext101_64x4d-173b62eb.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={'num_params': 83455272, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 83.246, 'acc@5': 96.454}}, 'recipe': 'https://github.com/pytorch/vision/pull/5935', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class Wide_ResNet50_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/wide_resnet50_2-95faca4d.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={'num_params': 68883240, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 78.468, 'acc@5': 94.086}}, 'recipe': 'https://github.com/pytorch/vision/pull/912#issue-445437439', 'categories': _IMAGENET_CATEGORIES},
    )
    IMAGENET1K_V2 = Weights(
        url='https://download.pytorch.org/models/wide_resnet50_2-9ba9bcbe.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={'num_params': 68883240, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 81.602, 'acc@5': 95.758}}, 'recipe': 'https://github.com/pytorch/vision/issues/3995#new-recipe-with-fixres', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V2


class Wide_ResNet101_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/wide_resnet101_2-32ee1156.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={'num_params': 126886696, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 78.848, 'acc@5': 94.284}}, 'recipe': 'https://github.com/pytorch/vision/pull/912#issue-445437439', 'categories': _IMAGENET_CATEGORIES},
    )
    IMAGENET1K_V2 = Weights(
        url='https://download.pytorch.org/models/wide_resnet101_2-d733dc28.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={'num_params': 126886696, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 82.51, 'acc@5': 96.02}}, 'recipe': 'https://github.com/pytorch/vision/issues/3995#new-recipe', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V2


class MobileNet_V2_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/mobilenet_v2-b0353104.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={'num_params': 3504872, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 71.878, 'acc@5': 90.286}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#mobilenetv2', 'categories': _IMAGENET_CATEGORIES},
    )
    IMAGENET1K_V2 = Weights(
        url='https://download.pytorch.org/models/mobilenet_v2-7ebf99e0.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={'num_params': 3504872, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 72.154, 'acc@5': 90.822}}, 'recipe': 'https://github.com/pytorch/vision/issues/3995#new-recipe-with-reg-tuning', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V2


class MobileNet_V3_Small_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/mobilenet_v3_small-047dcff4.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={'num_params': 2542856, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 67.668, 'acc@5': 87.402}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#mobilenetv3-large--small', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class MobileNet_V3_Large_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/mobilenet_v3_large-8738ca79.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={'num_params': 5483032, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 74.042, 'acc@5': 91.34}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#mobilenetv3-large--small', 'categories': _IMAGENET_CATEGORIES},
    )
    IMAGENET1K_V2 = Weights(
        url='https://download.pytorch.org/models/mobilenet_v3_large-5c1a4163.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={'num_params': 5483032, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 75.274, 'acc@5': 92.566}}, 'recipe': 'https://github.com/pytorch/vision/issues/3995#new-recipe-with-reg-tuning', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V2


class EfficientNet_B0_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b0_rwightman-7f5810bc.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=256, interpolation=InterpolationMode.BICUBIC),
        meta={'num_params': 5288548, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 77.692, 'acc@5': 93.532}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B1_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b1_rwightman-bac287d4.pth',
        transforms=partial(ImageClassification, crop_size=240, resize_size=256, interpolation=InterpolationMode.BICUBIC),
        meta={'num_params': 7794184, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 78.642, 'acc@5': 94.186}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1', 'categories': _IMAGENET_CATEGORIES},
    )
    IMAGENET1K_V2 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b1-c27df63c.pth',
        transforms=partial(ImageClassification, crop_size=240, resize_size=255, interpolation=InterpolationMode.BILINEAR),
        meta={'num_params': 7794184, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 79.838, 'acc@5': 94.934}}, 'recipe': 'https://github.com/pytorch/vision/issues/3995#new-recipe-with-lr-wd-crop-tuning', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V2


class EfficientNet_B2_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b2_rwightman-c35c1473.pth',
        transforms=partial(ImageClassification, crop_size=288, resize_size=288, interpolation=InterpolationMode.BICUBIC),
        meta={'num_params': 9109994, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 80.608, 'acc@5': 95.31}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B3_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b3_rwightman-b3899882.pth',
        transforms=partial(ImageClassification, crop_size=300, resize_size=320, interpolation=InterpolationMode.BICUBIC),
        meta={'num_params': 12233232, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 82.008, 'acc@5': 96.054}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B4_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b4_rwightman-23ab8bcd.pth',
        transforms=partial(ImageClassification, crop_size=380, resize_size=384, interpolation=InterpolationMode.BICUBIC),
        meta={'num_params': 19341616, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 83.384, 'acc@5': 96.594}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B5_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b5_lukemelas-1a07897c.pth',
        transforms=partial(ImageClassification, crop_size=456, resize_size=456, interpolation=InterpolationMode.BICUBIC),
        meta={'num_params': 30389784, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 83.444, 'acc@5': 96.628}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B6_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b6_lukemelas-24a108a5.pth',
        transforms=partial(ImageClassification, crop_size=528, resize_size=528, interpolation=InterpolationMode.BICUBIC),
        meta={'num_params': 43040704, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 84.008, 'acc@5': 96.916}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B7_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_b7_lukemelas-c5b4e57e.pth',
        transforms=partial(ImageClassification, crop_size=600, resize_size=600, interpolation=InterpolationMode.BICUBIC),
        meta={'num_params': 66347960, 'min_size': (1, 1), '_metrics': {'ImageNet-1K': {'acc@1': 84.122, 'acc@5': 96.908}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_S_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_v2_s-dd5fe13b.pth',
        transforms=partial(ImageClassification, crop_size=384, resize_size=384, interpolation=InterpolationMode.BILINEAR),
        meta={'num_params': 21458488, 'min_size': (33, 33), '_metrics': {'ImageNet-1K': {'acc@1': 84.228, 'acc@5': 96.878}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v2', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_M_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_v2_m-dc08266a.pth',
        transforms=partial(ImageClassification, crop_size=480, resize_size=480, interpolation=InterpolationMode.BILINEAR),
        meta={'num_params': 54139356, 'min_size': (33, 33), '_metrics': {'ImageNet-1K': {'acc@1': 85.112, 'acc@5': 97.156}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v2', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_L_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/efficientnet_v2_l-59c71312.pth',
        transforms=partial(ImageClassification, crop_size=480, resize_size=480, interpolation=InterpolationMode.BICUBIC, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)),
        meta={'num_params': 118515272, 'min_size': (33, 33), '_metrics': {'ImageNet-1K': {'acc@1': 85.808, 'acc@5': 97.788}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v2', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Tiny_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/convnext_tiny-983f1562.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=236),
        meta={'num_params': 28589128, 'min_size': (32, 32), '_metrics': {'ImageNet-1K': {'acc@1': 82.52, 'acc@5': 96.146}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#convnext', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Small_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/convnext_small-0c510722.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=230),
        meta={'num_params': 50223688, 'min_size': (32, 32), '_metrics': {'ImageNet-1K': {'acc@1': 83.616, 'acc@5': 96.65}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#convnext', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Base_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/convnext_base-6075fbad.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={'num_params': 88591464, 'min_size': (32, 32), '_metrics': {'ImageNet-1K': {'acc@1': 84.062, 'acc@5': 96.87}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#convnext', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Large_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/convnext_large-ea097f82.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232),
        meta={'num_params': 197767336, 'min_size': (32, 32), '_metrics': {'ImageNet-1K': {'acc@1': 84.414, 'acc@5': 96.976}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#convnext', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class ViT_B_16_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/vit_b_16-c867db91.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={'num_params': 86567656, 'min_size': (224, 224), '_metrics': {'ImageNet-1K': {'acc@1': 81.072, 'acc@5': 95.318}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#vit_b_16', 'categories': _IMAGENET_CATEGORIES},
    )
    IMAGENET1K_SWAG_E2E_V1 = Weights(
        url='https://download.pytorch.org/models/vit_b_16_swag-9ac1b537.pth',
        transforms=partial(ImageClassification, crop_size=384, resize_size=384, interpolation=InterpolationMode.BICUBIC),
        meta={'num_params': 86859496, 'min_size': (384, 384), '_metrics': {'ImageNet-1K': {'acc@1': 85.304, 'acc@5': 97.65}}, 'recipe': 'https://github.com/facebookresearch/SWAG', 'categories': _IMAGENET_CATEGORIES},
    )
    IMAGENET1K_SWAG_LINEAR_V1 = Weights(
        url='https://download.pytorch.org/models/vit_b_16_lc_swag-4e70ced5.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=224, interpolation=InterpolationMode.BICUBIC),
        meta={'num_params': 86567656, 'min_size': (224, 224), '_metrics': {'ImageNet-1K': {'acc@1': 81.886, 'acc@5': 96.18}}, 'recipe': 'https://github.com/pytorch/vision/pull/5793', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class ViT_B_32_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/vit_b_32-d86f8d99.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={'num_params': 88224232, 'min_size': (224, 224), '_metrics': {'ImageNet-1K': {'acc@1': 75.912, 'acc@5': 92.466}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#vit_b_32', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class ViT_L_16_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/vit_l_16-852ce7e3.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=242),
        meta={'num_params': 304326632, 'min_size': (224, 224), '_metrics': {'ImageNet-1K': {'acc@1': 79.662, 'acc@5': 94.638}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#vit_l_16', 'categories': _IMAGENET_CATEGORIES},
    )
    IMAGENET1K_SWAG_E2E_V1 = Weights(
        url='https://download.pytorch.org/models/vit_l_16_swag-4f3808c9.pth',
        transforms=partial(ImageClassification, crop_size=512, resize_size=512, interpolation=InterpolationMode.BICUBIC),
        meta={'num_params': 305174504, 'min_size': (512, 512), '_metrics': {'ImageNet-1K': {'acc@1': 88.064, 'acc@5': 98.512}}, 'recipe': 'https://github.com/facebookresearch/SWAG', 'categories': _IMAGENET_CATEGORIES},
    )
    IMAGENET1K_SWAG_LINEAR_V1 = Weights(
        url='https://download.pytorch.org/models/vit_l_16_lc_swag-4d563306.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=224, interpolation=InterpolationMode.BICUBIC),
        meta={'num_params': 304326632, 'min_size': (224, 224), '_metrics': {'ImageNet-1K': {'acc@1': 85.146, 'acc@5': 97.422}}, 'recipe': 'https://github.com/pytorch/vision/pull/5793', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class ViT_L_32_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/vit_l_32-c7638314.pth',
        transforms=partial(ImageClassification, crop_size=224),
        meta={'num_params': 306535400, 'min_size': (224, 224), '_metrics': {'ImageNet-1K': {'acc@1': 76.972, 'acc@5': 93.07}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#vit_l_32', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1


class ViT_H_14_Weights(WeightsEnum):
    IMAGENET1K_SWAG_E2E_V1 = Weights(
        url='https://download.pytorch.org/models/vit_h_14_swag-80465313.pth',
        transforms=partial(ImageClassification, crop_size=518, resize_size=518, interpolation=InterpolationMode.BICUBIC),
        meta={'num_params': 633470440, 'min_size': (518, 518), '_metrics': {'ImageNet-1K': {'acc@1': 88.552, 'acc@5': 98.694}}, 'recipe': 'https://github.com/facebookresearch/SWAG', 'categories': _IMAGENET_CATEGORIES},
    )
    IMAGENET1K_SWAG_LINEAR_V1 = Weights(
        url='https://download.pytorch.org/models/vit_h_14_lc_swag-c1eb923e.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=224, interpolation=InterpolationMode.BICUBIC),
        meta={'num_params': 632045800, 'min_size': (224, 224), '_metrics': {'ImageNet-1K': {'acc@1': 85.708, 'acc@5': 97.73}}, 'recipe': 'https://github.com/pytorch/vision/pull/5793', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_SWAG_E2E_V1


class Swin_T_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights(
        url='https://download.pytorch.org/models/swin_t-704ceda3.pth',
        transforms=partial(ImageClassification, crop_size=224, resize_size=232, interpolation=InterpolationMode.BICUBIC),
        meta={'num_params': 28288354, 'min_size': (224, 224), '_metrics': {'ImageNet-1K': {'acc@1': 81.474, 'acc@5': 95.776}}, 'recipe': 'https://github.com/pytorch/vision/tree/main/references/classification#swintransformer', 'categories': _IMAGENET_CATEGORIES},
    )
    DEFAULT = IMAGENET1K_V1
