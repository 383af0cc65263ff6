// PixlDatabase
